//! The one catalogue of what a person reads when jiesu says no: every stable error code of the
//! use cases and the domain (`AppError::code`, `DomainError::code`) as a Chinese sentence, with
//! the field's Chinese name where the error names a field, and the Chinese labels of the
//! vocabulary codes (unit kinds, SLA classes, channels, actors) for every page and export.
//!
//! The JSON API keeps its codes and its English `message`; the web desks and the citizen portal
//! render [`zh`] instead. A code without an entry is a bug the unit test below catches: it scans
//! the sources of the domain, the use cases and the server for every code literal they raise.

use crate::AppError;
use jiesu_domain::{Role, Status};

/// `code → sentence`. `{field}` is the field's Chinese name ([`field_zh`]), `{n}` the number
/// the engine's message carries (a length, a bound); an entry with `{n}` has a second form for a
/// message without one.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    // --- any field
    ("required", "请填写{field}。", ""),
    ("empty", "请填写{field}。", ""),
    ("too_long", "{field}过长，最多{n}个字符。", "{field}过长。"),
    (
        "too_many",
        "{field}条目过多，最多{n}项。",
        "{field}条目过多。",
    ),
    (
        "control_characters",
        "{field}含有不可见的控制字符，请删除后重试。",
        "",
    ),
    ("unknown_value", "{field}的取值无效，请从列表中选择。", ""),
    (
        "out_of_range",
        "{field}超出允许范围（1～{n}）。",
        "{field}超出允许范围。",
    ),
    ("in_future", "{field}不能晚于当前时间。", ""),
    ("time_in_future", "{field}不能晚于当前时间。", ""),
    ("date_in_future", "{field}不能晚于今天。", ""),
    ("time_too_early", "{field}早于允许的最早时间。", ""),
    ("invalid", "{field}格式不正确。", ""),
    ("invalid_field", "{field}格式不正确。", ""),
    (
        "inconsistent",
        "未联系上诉求人时，不能记录是否解决和满意度。",
        "",
    ),
    ("conflicting", "派单与当场答复、特殊处理不能同时选择。", ""),
    // --- the world: categories, places, units
    ("unknown_category", "分类不存在，请从分类列表中选择。", ""),
    (
        "not_a_leaf",
        "该分类下还有细分类，请选择一个最细的分类。",
        "",
    ),
    ("unknown_street", "街道不存在，请从列表中选择。", ""),
    ("unknown_community", "社区不存在，请从列表中选择。", ""),
    ("wrong_street", "所选社区不属于所选街道。", ""),
    ("community_not_in_street", "所选社区不属于所选街道。", ""),
    ("unknown_unit", "{field}不存在，请从列表中选择。", ""),
    ("not_a_department", "吹哨只能叫部门，不能叫街道办事处。", ""),
    ("already_involved", "所选部门已在办理此诉求。", ""),
    ("not_a_handler", "只有承办人账号属于某个单位。", ""),
    (
        "invalid_world",
        "基础数据（分类、单位、时限等）有误，未保存。",
        "",
    ),
    // --- intake
    (
        "invalid_phone",
        "联系电话格式不正确：请填写11位手机号（13～19开头）或固定电话。",
        "",
    ),
    (
        "bad_phone",
        "电话号码格式不正确：请填写11位手机号（13～19开头）或固定电话。",
        "",
    ),
    (
        "not_consultation",
        "只有咨询类诉求可以当场答复；其他类型请派单。",
        "",
    ),
    (
        "not_at_intake",
        "特殊处理（条例第十一条）只能在受理时选择。",
        "",
    ),
    // --- the lifecycle
    ("illegal_transition", "诉求当前状态下不能执行此操作。", ""),
    ("invalid_transition", "诉求当前状态下不能执行此操作。", ""),
    ("forbidden_role", "您的角色不能执行此操作。", ""),
    ("forbidden", "您的角色不能执行此操作。", ""),
    ("already_dispatched", "诉求已派给该单位，无需重复派单。", ""),
    (
        "contact_required",
        "答复前须先联系诉求人（条例第十五条）。",
        "",
    ),
    ("callback_required", "答复后须先回访，才能办结。", ""),
    (
        "extension_pending",
        "已有延期申请等待审批，请勿重复申请。",
        "",
    ),
    ("no_extension_pending", "没有待审批的延期申请。", ""),
    (
        "whistle_street_only",
        "只有主办的街道办事处可以吹哨（吹哨报到）。",
        "",
    ),
    ("already_reported", "本单位已经报到。", ""),
    ("already_rated", "该诉求已评价过，每件只能评价一次。", ""),
    ("self_merge", "诉求不能并入它自己。", ""),
    ("master_finished", "主件已结束，不能再并入。", ""),
    (
        "has_children",
        "本件已是主件（有并入的诉求）；请把另一件并入本件。",
        "",
    ),
    ("unknown_action", "未知操作。", ""),
    ("unknown_field", "{field}无法识别。", ""),
    // --- accounts and sessions
    (
        "invalid_username",
        "用户名须为1～64个字母、数字或 . _ - 字符。",
        "",
    ),
    ("unknown_role", "角色不存在，请从列表中选择。", ""),
    ("unknown_user", "账号不存在。", ""),
    (
        "weak_password",
        "密码强度不足：至少{n}位，并包含大写字母、小写字母、数字、其他字符中的多类。",
        "密码强度不足：请加长并混用大写字母、小写字母、数字和其他字符。",
    ),
    ("reused_password", "新密码不能与当前密码相同。", ""),
    ("bad_credentials", "用户名或密码错误。", ""),
    (
        "too_many_attempts",
        "登录失败次数过多，请15分钟后再试。",
        "",
    ),
    ("too_many_requests", "操作过于频繁，请稍后再试。", ""),
    (
        "own_account",
        "不能在这里操作自己的账号；修改自己的密码请用“修改密码”。",
        "",
    ),
    ("password_change_required", "首次登录须先修改密码。", ""),
    ("unauthenticated", "请先登录。", ""),
    (
        "csrf_failed",
        "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。",
        "",
    ),
    // --- storage
    (
        "duplicate",
        "{field}已被使用，请换一个。",
        "该值已被使用，请换一个。",
    ),
    ("concurrent_change", "诉求刚被他人更新，请刷新后重试。", ""),
    ("not_found", "诉求不存在或您无权查看。", ""),
    (
        "reindex_failed",
        "全文索引重建失败，请稍后重试或联系管理员。",
        "",
    ),
    ("internal", "系统内部错误，已记录日志；请稍后重试。", ""),
    ("unavailable", "系统暂时不可用，请稍后重试。", ""),
    // --- webhooks (admin)
    (
        "invalid_url",
        "地址无效：须为完整的 http:// 或 https:// 地址，且不含用户名和密码。",
        "",
    ),
    (
        "unsupported_scheme",
        "地址须以 http:// 或 https:// 开头。",
        "",
    ),
    ("invalid_name", "名称须为1～100个字符。", ""),
    ("invalid_id", "编号无效。", ""),
    // --- requests of the call itself
    ("bad_query", "查询条件“{field}”有误。", ""),
    ("bad_path", "地址中的编号无效。", ""),
    ("bad_body", "提交的内容无法读取。", ""),
    ("malformed_json", "提交的内容不是有效的 JSON。", ""),
    ("unsupported_media_type", "提交的内容类型不受支持。", ""),
    ("body_too_large", "提交的内容过大。", ""),
    // --- elder care (养老服务)
    ("bad_copay", "{field}金额不正确。", ""),
    ("negative_amount", "{field}不能为负数。", ""),
    ("bad_id_birth_date", "身份证号中的出生日期无效。", ""),
    ("bad_id_check", "身份证号校验位不正确。", ""),
    (
        "bad_id_digits",
        "身份证号只能包含数字（最后一位可为X）。",
        "",
    ),
    ("bad_id_length", "身份证号须为18位。", ""),
    ("bad_list", "{field}的取值无效。", ""),
    ("bad_place", "{field}无效，请从列表中选择。", ""),
    ("bad_score", "{field}评分无效。", ""),
    ("score_out_of_range", "{field}评分超出范围。", ""),
    ("missing_item", "缺少评估项{field}。", ""),
    ("unknown_item", "评估项{field}不存在。", ""),
    ("birth_date_in_future", "出生日期不能晚于今天。", ""),
    ("birth_date_mismatch", "出生日期与身份证号不一致。", ""),
    ("too_young", "未达到养老服务的年龄要求。", ""),
    ("slot_end_before_start", "结束时间须晚于开始时间。", ""),
    ("slot_in_past", "预约时间不能早于现在。", ""),
    ("slot_too_long", "预约时段过长。", ""),
    (
        "visit_not_verified",
        "上门服务尚未核验，不能进行此操作。",
        "",
    ),
    (
        "amount_too_large",
        "{field}金额过大，最多{n}分。",
        "{field}金额过大。",
    ),
    ("bad_month", "{field}应为“年-月”格式，如 2026-01。", ""),
    (
        "claim_locked",
        "该月结算已审核锁定；更正请计入下月结算。",
        "",
    ),
    ("claim_changed", "结算金额已变化，请重新审核。", ""),
    // elder care: the network, orders, meals, settlement as the desks show them
    ("bad_code", "编码须为2～32个字母、数字、“-”或“_”。", ""),
    (
        "bad_capacity",
        "{field}不正确，最多{n}。",
        "{field}不正确。",
    ),
    ("bad_weekday", "{field}应为周一至周日（1～7）。", ""),
    ("bad_duration", "每次服务须在当天内开始和结束。", ""),
    ("bad_range", "结束日期不能早于开始日期。", ""),
    ("date_in_past", "{field}不能早于今天。", ""),
    ("date_out_of_range", "{field}超出允许范围。", ""),
    ("date_too_early", "{field}过早，须在2000年以后。", ""),
    (
        "time_out_of_range",
        "{field}超出允许范围（2000～2099年）。",
        "",
    ),
    ("month_in_future", "不能结算尚未到来的月份。", ""),
    (
        "overlapping_slots",
        "服务时段有重叠：同一天的时段不能交叉。",
        "",
    ),
    ("outside_slots", "所选时间不在服务商的每周服务时段内。", ""),
    ("slot_full", "该时段已约满，请选择其他时间。", ""),
    // 一键呼 alarms.
    (
        "bad_chain",
        "升级链设置有误：每一步须晚于上一步，且在一天之内。",
        "",
    ),
    ("bad_limit", "到场时限须在1分钟到1天之间。", ""),
    ("bad_priority", "优先级须为1（最高）到9。", ""),
    ("already_linked", "该报警已关联诉求工单。", ""),
    ("carer_busy", "该护理员此时段已有其他上门服务。", ""),
    (
        "carer_lacks_skill",
        "该护理员不提供此项服务，请另选护理员。",
        "",
    ),
    (
        "unknown_carer",
        "护理员不存在或已停用，请从列表中选择。",
        "",
    ),
    ("unknown_provider", "服务商不存在，请从列表中选择。", ""),
    ("provider_inactive", "该服务商已停用，不能派单。", ""),
    (
        "provider_not_covering",
        "该服务商的服务范围不覆盖老人所在社区。",
        "",
    ),
    ("service_not_offered", "该服务商不提供此项服务。", ""),
    ("request_closed", "诉求已办结，不能再转养老服务工单。", ""),
    (
        "too_many_visits",
        "照护计划一次最多生成{n}次上门服务，请缩短日期范围。",
        "照护计划生成的上门服务过多，请缩短日期范围。",
    ),
    (
        "unknown_care_manager",
        "照护管理师不存在或已停用，请填写其用户名。",
        "",
    ),
    ("unknown_elder", "名册中没有这位老人，请先登记。", ""),
    (
        "elder_not_matched",
        "身份证号与登记的家属电话不匹配，请核对；如未登记，请联系社区或街道照护管理师。",
        "",
    ),
    (
        "unknown_meal_point",
        "助餐点不存在或已停用，请从列表中选择。",
        "",
    ),
    ("point_full", "该助餐点本餐次已满员。", ""),
    (
        "duplicate_meal",
        "这位老人当天已有同一餐次的记录，不能重复登记。",
        "",
    ),
    ("unknown_party", "服务商或助餐点不存在。", ""),
    ("missing_field", "请填写{field}。", ""),
    (
        "code_mismatch",
        "提交内容中的编码与地址中的编码不一致。",
        "",
    ),
    // --- the knowledge base (知识库)
    ("too_short", "{field}太短，至少{n}个字。", "{field}太短。"),
    (
        "invalid_date",
        "{field}应为“年-月-日”格式的日期，如 2026-01-01。",
        "",
    ),
    ("before_valid_from", "失效日期不能早于生效日期。", ""),
    (
        "keyword_too_long",
        "关键词过长，最多{n}个字。",
        "关键词过长。",
    ),
    ("keyword_invalid", "关键词不能含空格或控制字符。", ""),
    (
        "too_many_keywords",
        "关键词过多，最多{n}个。",
        "关键词过多。",
    ),
    (
        "own_revision",
        "不能审核自己编写的条目，请由另一位审核人审核。",
        "",
    ),
    (
        "entry_unavailable",
        "该知识库条目未发布或不在有效期内，不能用于答复。",
        "",
    ),
    (
        "not_empty",
        "知识库已有条目，预置条目只能载入到空的知识库。",
        "",
    ),
    ("unknown_request", "{field}不存在。", "诉求不存在。"),
    // --- backups (command line)
    ("backup_exists", "备份文件已存在。", ""),
    ("bad_backup", "备份文件无法读取。", ""),
    ("target_not_empty", "目标数据库不是空库。", ""),
    ("schema_mismatch", "备份与数据库结构版本不一致。", ""),
    ("unsupported_column", "备份含有不支持的数据列。", ""),
    ("restore_verify_failed", "恢复后校验失败。", ""),
    ("io", "读写文件失败。", ""),
    ("database", "数据库操作失败。", ""),
    // --- 一键呼 devices and alarms
    (
        "bad_device_code",
        "{field}只能由3～64位字母、数字、“-”“_”“.”组成。",
        "",
    ),
    ("bad_json", "消息格式无法识别。", ""),
    ("unknown_device", "设备未登记或已停用。", ""),
    ("unknown_vendor", "设备厂商未登记。", ""),
    (
        "bad_signature",
        "签名校验未通过，或签名时间与服务器相差超过5分钟。",
        "",
    ),
    ("device_mismatch", "消息中的设备编号与主题不一致。", ""),
    ("bad_topic", "消息主题不符合约定格式。", ""),
    (
        "bad_chain",
        "升级链设置有误：每一级须晚于上一级，且在一天之内。",
        "",
    ),
    ("duplicate", "{field}已被使用。", "该记录已存在。"),
    // --- 托育
    (
        "class_too_large",
        "{field}超过该班型的人数上限（最多{n}人）。",
        "{field}超过该班型的人数上限。",
    ),
    (
        "too_few_carers",
        "保育人员不足：按该班型的师幼比，至少需要{n}名保育人员。",
        "保育人员不足。",
    ),
    (
        "below_enrolled",
        "{field}少于在托幼儿人数：至少需要{n}个学位。",
        "{field}少于在托幼儿人数。",
    ),
    ("band_full", "该班型的学位已满。", ""),
    (
        "application_not_matched",
        "没有找到与该申请编号和手机号相符的托育申请。",
        "",
    ),
    ("round_published", "该派位轮次已经发布，不能再次发布。", ""),
    (
        "round_violations",
        "派位结果未通过程序自检（存在{n}处违规），未发布任何结果。",
        "派位结果未通过程序自检，未发布任何结果。",
    ),
    ("not_enrolled", "只能为在托儿童记录体检。", ""),
    ("month_locked", "该月补贴已审核锁定，不能再次审核。", ""),
    (
        "age_outside_bands",
        "孩子在入托日期时的月龄不在托育班级范围内（6～36个月），请调整入托日期。",
        "",
    ),
    (
        "band_not_offered",
        "所选{field}中没有适合孩子入托时月龄的班级。",
        "",
    ),
    ("band_mismatch", "学位的班型与孩子入托时的月龄不符。", ""),
    (
        "duplicate_choice",
        "{field}重复：同一托育机构只能填报一次。",
        "",
    ),
    (
        "unknown_institution",
        "{field}中的托育机构不存在，请从列表中选择。",
        "",
    ),
    ("not_in_choices", "该托育机构不在申请填报的志愿中。", ""),
    (
        "criterion_not_claimed",
        "只能确认申请时填报的优先条件。",
        "",
    ),
    ("offer_expired", "学位确认期限已过，不能再接受该学位。", ""),
    ("date_before_birth", "{field}不能早于孩子的出生日期。", ""),
    (
        "implausible_measurement",
        "{field}数值不合理，请核对单位（身高以毫米、体重以克填写）。",
        "",
    ),
    // --- 企业服务与七有五性
    (
        "bad_credit_code_length",
        "{field}应为18位，请核对后重新填写。",
        "",
    ),
    (
        "bad_credit_code_char",
        "{field}含有不允许的字符：只能使用数字和大写英文字母（不含易与数字混淆的五个字母），第3～8位须为数字。",
        "",
    ),
    (
        "bad_credit_code_check",
        "{field}校验位不正确，请核对是否输错。",
        "",
    ),
    ("steward_overlap", "服务管家的任职时段与已有时段重叠。", ""),
    ("same_steward", "该企业的服务管家已是此人。", ""),
    ("too_deep", "{field}的条件嵌套层级过多，最多8层。", ""),
    (
        "indicator_not_imported",
        "该指标由平台数据自动计算，不能导入。",
        "",
    ),
    (
        "bad_period",
        "{field}应为年份（如 2025）或年月（如 2025-06）。",
        "",
    ),
    ("bad_number", "{field}应为数字，不带“%”和千位分隔符。", ""),
    ("missing_column", "文件缺少“{field}”列。", ""),
    ("wrong_column_count", "该行的列数与表头不一致。", ""),
    ("no_later_year", "尚无基线年以后的数据，无法评估进展。", ""),
    (
        "target_year_not_after_baseline",
        "目标年份须晚于基线年份，无法评估进展。",
        "",
    ),
    ("not_finite", "数值无效，无法评估进展。", ""),
    ("no_data", "暂无数据，无法评估进展。", ""),
];

/// Field names as a form labels them.
pub const FIELDS: &[(&str, &str)] = &[
    ("device_id", "设备编号"),
    ("vendor", "设备厂商"),
    ("model", "设备型号"),
    ("installed_on", "安装日期"),
    ("heartbeat_secs", "心跳间隔"),
    ("network_id", "SIM卡号"),
    ("room", "安装位置"),
    ("reference", "报警编号"),
    ("payload", "消息"),
    ("gps", "定位"),
    ("steps", "升级链"),
    ("after_secs", "升级时限"),
    ("on_site_secs", "到场时限"),
    ("battery", "电量"),
    ("priority", "优先级"),
    ("time", "报警时间"),
    ("notify", "通知对象"),
    ("text", "诉求内容"),
    ("title", "标题"),
    ("caller_name", "诉求人姓名"),
    ("caller_phone", "联系电话"),
    ("phone", "电话"),
    ("category", "分类"),
    ("street", "街道"),
    ("community", "社区"),
    ("address", "地址"),
    ("request_type", "诉求类型"),
    ("channel", "渠道"),
    ("received_at", "受理时间"),
    ("reason", "理由"),
    ("resolved", "是否解决"),
    ("satisfaction", "满意度"),
    ("special", "特殊处理"),
    ("special_handling", "特殊处理"),
    ("answer", "答复内容"),
    ("unit", "承办单位"),
    ("units", "吹哨部门"),
    ("dispatch_to", "派单单位"),
    ("working_days", "延期工作日数"),
    ("master", "主件"),
    ("master_id", "主件"),
    ("note", "备注"),
    ("notes", "备注"),
    ("comment", "评价意见"),
    ("reached", "是否联系上"),
    ("method", "联系方式"),
    ("approve", "审批结果"),
    ("username", "用户名"),
    ("display_name", "姓名"),
    ("password", "密码"),
    ("current_password", "当前密码"),
    ("role", "角色"),
    ("name", "名称"),
    ("url", "地址"),
    ("id", "编号"),
    ("idempotency_key", "幂等键"),
    ("code", "受理编号"),
    ("q", "关键词"),
    ("status", "状态"),
    ("from", "起始日期"),
    ("to", "截止日期"),
    ("limit", "每页条数"),
    ("cursor", "翻页位置"),
    ("period", "考评期"),
    ("target", "对象"),
    ("format", "导出格式"),
    ("action", "操作"),
    ("weights", "考评权重"),
    ("month", "月份"),
    ("question", "问题"),
    ("keywords", "关键词"),
    ("valid_from", "生效日期"),
    ("valid_to", "失效日期"),
    ("source", "政策依据"),
    ("department", "部门"),
    // elder care
    ("birth_date", "出生日期"),
    ("id_number", "身份证号"),
    ("family", "家属"),
    ("medical_notes", "健康备注"),
    ("subsidies", "补贴"),
    ("copay_fen", "自付金额"),
    ("price_fen", "价格"),
    ("place", "服务地点"),
    ("score", "评分"),
    ("scores", "评估"),
    ("assessor", "评估员"),
    ("consent", "授权"),
    ("scope", "授权范围"),
    ("date", "日期"),
    ("slot", "预约时段"),
    ("start", "开始时间"),
    ("end", "结束时间"),
    ("elder_id", "老人"),
    ("service", "服务项目"),
    ("provider", "服务商"),
    ("carer_id", "护理员"),
    ("coverage", "覆盖社区"),
    ("communities", "服务社区"),
    ("slots", "服务时段"),
    ("weekday", "星期"),
    ("weekdays", "星期"),
    ("start_min", "开始时间"),
    ("end_min", "结束时间"),
    ("capacity", "接待人数"),
    ("hours", "开放时间"),
    ("point", "助餐点"),
    ("meal", "餐次"),
    ("bill_fen", "账单金额"),
    ("care_manager", "照护管理师"),
    ("party", "结算对象"),
    ("started_at", "开始时间"),
    ("finished_at", "结束时间"),
    ("wanted", "希望上门时间"),
    ("duration_min", "服务时长"),
    ("from_date", "开始日期"),
    ("to_date", "结束日期"),
    ("total_fen", "结算金额"),
    ("guardians", "监护人"),
    ("choices", "志愿"),
    ("child_ref", "幼儿"),
    ("start_date", "入托日期"),
    ("criteria", "优先条件"),
    ("classes", "班级"),
    ("carers", "保育人员人数"),
    ("monthly_price_fen", "月收费标准"),
    ("licence_no", "备案编号"),
    ("operator", "举办者"),
    ("height_mm", "身高"),
    ("weight_g", "体重"),
    ("sibling_enrolled_at", "兄弟姐妹所在托育机构"),
    ("sibling_application", "兄弟姐妹的申请"),
    ("round", "派位轮次"),
    ("institution", "托育机构"),
    ("band", "班型"),
    ("choice", "志愿序号"),
    ("accept_days", "确认期限天数"),
    ("city_fen", "市级补贴标准"),
    ("district_fen", "区级补贴标准"),
    ("log", "在托记录"),
    ("applicants", "申请"),
    ("programs", "学位"),
    ("health_contract", "医育结合协议"),
    ("credit_code", "统一社会信用代码"),
    ("short_name", "企业简称"),
    ("industry", "行业"),
    ("size", "企业规模"),
    ("founded", "成立日期"),
    ("employees", "从业人数"),
    ("memberships", "服务包名单"),
    ("removed_on", "移出日期"),
    ("stewards", "服务管家"),
    ("steward", "服务管家"),
    ("contacts", "联系人"),
    ("position", "职务"),
    ("year", "年份"),
    ("tier", "服务包层级"),
    ("policy", "政策"),
    ("conditions", "申报条件"),
    ("deadline", "申报截止日期"),
    ("summary", "政策摘要"),
    ("catalogue", "指标目录"),
    ("indicators", "指标"),
    ("indicator", "指标"),
    ("formula", "计算公式"),
    ("baseline", "基线"),
    ("value", "数值"),
    ("file", "文件"),
    ("row", "行"),
];

/// The Chinese name of a field as an error names it (`family[2].phone`, `scores.adl`,
/// `consent.date`): the last named part that has one, else a neutral word.
pub fn field_zh(field: &str) -> &'static str {
    let plain = |s: &str| -> Option<&'static str> {
        let s = s.split('[').next().unwrap_or(s);
        FIELDS.iter().find(|(k, _)| *k == s).map(|(_, v)| *v)
    };
    field.rsplit('.').find_map(plain).unwrap_or("该项")
}

/// Whether the catalogue has a sentence for `code`.
pub fn has(code: &str) -> bool {
    CATALOGUE.iter().any(|(c, _, _)| *c == code)
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// A run of two or more ASCII letters (a word, not a unit such as "X" in an id number).
fn has_latin_word(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphabetic())
        .any(|w| w.len() >= 2)
}

/// The last run of digits in the engine's message (a bound such as "at most 200 characters").
fn number_in(message: &str) -> Option<String> {
    let mut last = None;
    let mut cur = String::new();
    for ch in message.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_digit() {
            cur.push(ch);
        } else if ch == ',' && !cur.is_empty() {
            // "2,000"
        } else if !cur.is_empty() {
            last = Some(std::mem::take(&mut cur));
        }
    }
    last
}

/// The request's status named in a refusal (`… while the request is 已受理 (received) …`),
/// and the statuses it would be allowed in.
fn statuses_in(message: &str) -> (Option<&'static str>, Vec<&'static str>) {
    let (before, allowed) = message.split_once("allowed in:").unwrap_or((message, ""));
    let current = Status::ALL
        .iter()
        .map(|s| s.label_zh())
        .filter_map(|l| before.find(l).map(|i| (i, l)))
        .min()
        .map(|(_, l)| l);
    let mut allowed_in: Vec<(usize, &'static str)> = Status::ALL
        .iter()
        .map(|s| s.label_zh())
        .filter_map(|l| allowed.find(l).map(|i| (i, l)))
        .collect();
    allowed_in.sort();
    (current, allowed_in.into_iter().map(|(_, l)| l).collect())
}

/// The roles a `forbidden_role` message names as allowed (`…: only 回访员 may do this, not …`).
fn roles_in(message: &str) -> Vec<&'static str> {
    let Some((_, rest)) = message.split_once("only ") else {
        return Vec::new();
    };
    let allowed = rest.split(" may").next().unwrap_or("");
    let mut found: Vec<(usize, &'static str)> = Role::ALL
        .iter()
        .map(|r| r.label_zh())
        .filter_map(|l| allowed.find(l).map(|i| (i, l)))
        .collect();
    found.sort();
    found.into_iter().map(|(_, l)| l).collect()
}

/// The Chinese sentence for an error: its code's entry with the field's name and the engine's
/// number filled in; the specifics of a refusal (the request's status, the roles allowed) are
/// taken from the engine's message where it names them in Chinese. A code without an entry
/// (a bug the test below catches) falls back to a neutral sentence, never English.
pub fn zh(code: &str, field: Option<&str>, message: &str) -> String {
    // Newer rules word their message in Chinese with the specifics (a keyword, a bound): shown
    // as it is when it has no Latin words.
    if message.chars().any(is_cjk) && !has_latin_word(message) {
        return message.to_string();
    }
    match code {
        "illegal_transition" | "invalid_transition" => {
            if message.contains("already finished") {
                return "诉求已结束，不能再执行此操作。".into();
            }
            if message.contains("closed at intake") {
                return "受理时直接办结的诉求从未派单，不能重办；请另行受理一件新诉求。".into();
            }
            if message.contains("no unit to return to") {
                return "诉求没有承办单位，不能重办。".into();
            }
            if message.starts_with("回访") {
                return "答复后、未联系上的回访之后或办理时限已过时，才能回访（条例第二十三条）。"
                    .into();
            }
            let (current, allowed) = statuses_in(message);
            return match (current, allowed.is_empty()) {
                (Some(c), true) => format!("诉求当前为“{c}”，不能执行此操作。"),
                (Some(c), false) => format!(
                    "诉求当前为“{c}”，不能执行此操作；“{}”时才可以。",
                    allowed.join("”“")
                ),
                (None, _) => "诉求当前状态下不能执行此操作。".into(),
            };
        }
        "forbidden_role" | "forbidden" => {
            if message.contains("lead unit") {
                return "只有主办单位可以执行此操作。".into();
            }
            if message.contains("吹哨") && message.contains("报到") {
                return "只有被吹哨叫来的部门可以报到。".into();
            }
            if message.contains("caller rates") {
                return "只有诉求人本人可以在市民服务页面评价。".into();
            }
            let roles = roles_in(message);
            return if roles.is_empty() {
                "您的角色不能执行此操作。".into()
            } else {
                format!("只有{}可以执行此操作。", roles.join("、"))
            };
        }
        "weak_password" if !message.contains("characters") => {
            return match number_in(message) {
                Some(n) => format!("密码须包含大写字母、小写字母、数字、其他字符中的至少{n}类。"),
                None => "密码强度不足：请混用大写字母、小写字母、数字和其他字符。".into(),
            };
        }
        "not_found" if field.is_some() => {
            return format!("{}不存在。", field_zh(field.unwrap_or_default()));
        }
        _ => {}
    }
    let Some((_, with_n, plain)) = CATALOGUE.iter().find(|(c, _, _)| *c == code) else {
        return match field {
            Some(f) => format!("{}填写有误，请检查后重试。", field_zh(f)),
            None => "操作未能完成，请检查后重试。".into(),
        };
    };
    let n = number_in(message);
    let template = match (&n, plain.is_empty()) {
        (None, false) => plain,
        _ => with_n,
    };
    let name = field.map(field_zh).unwrap_or("该项");
    template
        .replace("{field}", name)
        .replace("{n}", n.as_deref().unwrap_or(""))
}

/// [`zh`] of a use case's error.
pub fn of(e: &AppError) -> String {
    zh(&e.code, e.field.as_deref(), &e.message)
}

/// A refusal of one action on a request page: the action named, then the reason.
pub fn refusal(action: &str, code: &str, message: &str) -> String {
    let why = zh(code, None, message);
    format!("{action}：{why}")
}

// ------------------------------------------------------------------ vocabulary

/// A unit's kind as a table shows it.
pub fn unit_kind_zh(kind: jiesu_world::UnitKind) -> &'static str {
    match kind {
        jiesu_world::UnitKind::Street => "街道办事处",
        jiesu_world::UnitKind::Department => "职能部门",
        jiesu_world::UnitKind::Utility => "公共服务企业",
        jiesu_world::UnitKind::Provider => "服务商",
    }
}

/// An SLA class's kind (`emergency` / `ordinary`).
pub fn sla_kind_zh(kind: &str) -> &'static str {
    match kind {
        "emergency" => "紧急",
        "ordinary" => "一般",
        _ => "其他",
    }
}

/// The system's own reasons on the timeline (the sweep writes codes such as "deadline passed").
pub fn system_reason_zh(reason: &str) -> String {
    match reason {
        "deadline passed" => "已超过办理时限".into(),
        "response deadline passed" => "已超过响应时限".into(),
        "completion deadline passed" => "已超过办理时限".into(),
        "probe" => String::new(),
        other => other.to_string(),
    }
}

/// Who acted, as a timeline reads it: the role's Chinese label and, for a unit's staff, the
/// unit's name ("承办人 · 什刹海街道办事处"), never a login name such as `handler@110102018`.
pub fn actor_zh(role: Role, unit_name: Option<&str>) -> String {
    match (role, unit_name) {
        (Role::System, _) => "系统".into(),
        (Role::Citizen, _) => "诉求人".into(),
        (r, Some(u)) if !u.is_empty() => format!("{} · {u}", r.label_zh()),
        (r, _) => r.label_zh().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code literal the sources raise, by position: `DomainError::invalid(field, CODE, …)`,
    /// `DomainError::refused(CODE, …)`, `AppError::new(kind, CODE, …)`,
    /// `AppError::invalid(field, CODE, …)`, `AppError::bad_input(CODE, …)`,
    /// `ApiError::new(status, CODE, …)`, `ApiError::field(status, CODE, …)`,
    /// `ApiError::invalid(field, CODE, …)`, `ApiError::bad_request(CODE, …)`, and `code: "…"`
    /// in a struct literal.
    fn codes_in(src: &str) -> Vec<String> {
        let calls: &[(&str, usize)] = &[
            ("DomainError::invalid(", 1),
            ("DomainError::refused(", 0),
            ("AppError::new(", 1),
            ("AppError::invalid(", 1),
            ("AppError::bad_input(", 0),
            ("ApiError::new(", 1),
            ("ApiError::field(", 1),
            ("ApiError::invalid(", 1),
            ("ApiError::bad_request(", 0),
        ];
        let mut out = Vec::new();
        for (call, pos) in calls {
            let mut at = 0;
            while let Some(i) = src[at..].find(call) {
                let start = at + i + call.len();
                at = start;
                if let Some(arg) = nth_arg(&src[start..], *pos)
                    && let Some(lit) = literal(arg)
                {
                    out.push(lit);
                }
            }
        }
        let mut at = 0;
        while let Some(i) = src[at..].find("code: \"") {
            let start = at + i + "code: ".len();
            at = start;
            if let Some(lit) = literal(&src[start..]) {
                out.push(lit);
            }
        }
        out
    }

    /// The `n`th top-level argument of a call whose text starts after `(`.
    fn nth_arg(s: &str, n: usize) -> Option<&str> {
        let (mut depth, mut in_str, mut idx, mut start) = (0i32, false, 0usize, 0usize);
        let bytes = s.as_bytes();
        let mut k = 0;
        while k < bytes.len() {
            let c = bytes[k];
            if in_str {
                if c == b'\\' {
                    k += 1;
                } else if c == b'"' {
                    in_str = false;
                }
            } else {
                match c {
                    b'"' => in_str = true,
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' if depth == 0 => {
                        return (idx == n).then(|| &s[start..k]);
                    }
                    b')' | b']' | b'}' => depth -= 1,
                    b',' if depth == 0 => {
                        if idx == n {
                            return Some(&s[start..k]);
                        }
                        idx += 1;
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            k += 1;
        }
        None
    }

    /// A plain `"snake_case"` literal, nothing else.
    fn literal(arg: &str) -> Option<String> {
        let t = arg.trim();
        let inner = t.strip_prefix('"')?;
        let end = inner.find('"')?;
        let lit = &inner[..end];
        let ok = !lit.is_empty()
            && inner[end + 1..].trim().is_empty()
            && lit
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        ok.then(|| lit.to_string())
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs")
                && let Ok(text) = std::fs::read_to_string(&p)
            {
                out.push((p.display().to_string(), text));
            }
        }
    }

    #[test]
    fn every_code_in_the_code_base_has_a_sentence() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for c in ["domain/src", "app/src", "server/src", "store/src"] {
            sources(&root.join(c), &mut files);
        }
        assert!(files.len() > 20, "the sources were not found: {root:?}");
        let mut seen = 0;
        let mut missing = Vec::new();
        for (path, text) in &files {
            for code in codes_in(text) {
                seen += 1;
                if !has(&code) {
                    missing.push(format!("{code} ({path})"));
                }
            }
        }
        // The scanner itself must find the codes it is meant to (a broken scan passes nothing).
        assert!(seen > 80, "only {seen} code literals found");
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "codes without a sentence in crates/app/src/messages.rs CATALOGUE: {missing:#?}"
        );
    }

    #[test]
    fn the_scanner_reads_positions_not_any_literal() {
        let src = r#"DomainError::invalid("street", "unknown_street", format!("x {s}"));
            AppError::new(ErrorKind::Refused, "own_account", "y");
            DomainError::refused("illegal_transition", format!("a, b"))"#;
        assert_eq!(
            codes_in(src),
            vec!["unknown_street", "illegal_transition", "own_account"]
        );
    }

    #[test]
    fn sentences_are_chinese_with_the_field_and_the_number() {
        assert_eq!(
            zh("too_long", Some("title"), "at most 200 characters"),
            "标题过长，最多200个字符。"
        );
        assert_eq!(
            zh("required", Some("reason"), "must not be empty"),
            "请填写理由。"
        );
        assert_eq!(
            zh(
                "out_of_range",
                Some("working_days"),
                "must be between 1 and 30"
            ),
            "延期工作日数超出允许范围（1～30）。"
        );
        assert_eq!(
            zh("weak_password", Some("password"), "at least 10 characters"),
            "密码强度不足：至少10位，并包含大写字母、小写字母、数字、其他字符中的多类。"
        );
        assert_eq!(
            zh(
                "illegal_transition",
                None,
                "reopen is not possible while the request is 已受理 (received); allowed in: 已答复、已办结"
            ),
            "诉求当前为“已受理”，不能执行此操作；“已答复”“已办结”时才可以。"
        );
        assert_eq!(
            zh(
                "forbidden_role",
                None,
                "callback: only 回访员 may do this, not 派单员"
            ),
            "只有回访员可以执行此操作。"
        );
        assert_eq!(field_zh("family[2].phone"), "电话");
        assert_eq!(field_zh("consent.date"), "日期");
        // Unknown codes never surface the English message.
        let s = zh("no_such_code", None, "something in English");
        assert!(!s.contains("English"));
    }

    #[test]
    fn no_sentence_contains_latin_words() {
        // Codes, product names and URL schemes are allowed; sentences are Chinese.
        let allowed = ["CSRF", "JSON", "http", "https", "X"];
        for (code, a, b) in CATALOGUE {
            for s in [a, b] {
                let stripped = s.replace("{field}", "").replace("{n}", "");
                for word in stripped
                    .split(|c: char| !c.is_ascii_alphabetic())
                    .filter(|w| !w.is_empty())
                {
                    assert!(
                        allowed.contains(&word),
                        "{code}: Latin word {word:?} in {s}"
                    );
                }
            }
        }
    }
}
