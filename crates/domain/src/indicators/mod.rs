//! 七有五性 (issue 17): indicators as data (formula over the platform's own records or an
//! imported statistic, a target, a target year, a baseline) and progress by the Open SDG
//! method. Pure rules; the app computes the inputs from the store.
