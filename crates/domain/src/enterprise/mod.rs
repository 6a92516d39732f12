//! 企事通 (issue 17): enterprises (统一社会信用代码 by GB 32100), 服务包 membership and their
//! 服务管家, anonymous dispatch, and the policy registry's eligibility conditions. Pure rules.
