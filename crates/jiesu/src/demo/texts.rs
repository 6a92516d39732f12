//! What callers say and units answer: templates with slots, per street, category and step.
//!
//! The tables are keyed by the Xicheng world's codes; any other world falls back to generic
//! phrases built from the category's name and keywords, so the demo runs on every world.

use super::rng::Rng;

/// Roads, hutongs and compounds per street (NBS code): where callers live.
const PLACES: &[(&str, &[&str], &[&str])] = &[
    (
        "110102001",
        &[
            "府右街",
            "西交民巷",
            "北新华街",
            "灵境胡同",
            "东绒线胡同",
            "光明胡同",
            "钟声胡同",
            "六部口",
        ],
        &["府右街小区", "光明胡同小区", "西交民巷小区"],
    ),
    (
        "110102003",
        &[
            "新街口北大街",
            "西直门内大街",
            "赵登禹路",
            "前公用胡同",
            "新太平胡同",
            "西四北三条",
            "大乘巷",
        ],
        &["冠英园小区", "玉桃园小区", "西直门南小街小区"],
    ),
    (
        "110102007",
        &[
            "月坛北街",
            "三里河路",
            "南礼士路",
            "复兴门外大街",
            "白云路",
            "真武庙路",
            "月坛南街",
        ],
        &[
            "月坛北小街小区",
            "真武庙四里",
            "木樨地北里",
            "三里河一区",
            "汽南小区",
        ],
    ),
    (
        "110102009",
        &[
            "展览馆路",
            "百万庄大街",
            "车公庄大街",
            "阜成门外大街",
            "文兴街",
            "新华里",
            "露园",
        ],
        &["百万庄小区", "车公庄大街北里", "新华里小区", "团结小区"],
    ),
    (
        "110102010",
        &[
            "德胜门外大街",
            "新街口外大街",
            "黄寺大街",
            "安德路",
            "六铺炕",
            "双旗杆",
            "德外大街",
        ],
        &["安德路小区", "六铺炕小区", "裕中西里", "新康园", "德胜里"],
    ),
    (
        "110102011",
        &[
            "金融大街",
            "武定侯街",
            "太平桥大街",
            "丰盛胡同",
            "二龙路",
            "大红罗厂街",
            "西单北大街",
        ],
        &["丰汇园", "二龙路小区", "文华胡同小区", "砖塔胡同小区"],
    ),
    (
        "110102012",
        &[
            "鼓楼西大街",
            "烟袋斜街",
            "后海北沿",
            "前海西街",
            "地安门外大街",
            "德胜门内大街",
            "大金丝胡同",
            "护国寺街",
            "兴华胡同",
        ],
        &["西海南沿小区", "松树街小区", "新街口东街小区"],
    ),
    (
        "110102013",
        &[
            "煤市街",
            "大栅栏西街",
            "大栅栏街",
            "铁树斜街",
            "樱桃斜街",
            "杨梅竹斜街",
            "珠宝市街",
            "粮食店街",
            "百顺胡同",
        ],
        &["延寿街小区", "前门西河沿小区"],
    ),
    (
        "110102014",
        &[
            "天桥南大街",
            "永安路",
            "北纬路",
            "虎坊路",
            "福长街",
            "香厂路",
            "留学路",
        ],
        &["永安里小区", "北纬路小区", "香厂路小区", "福长街小区"],
    ),
    (
        "110102015",
        &[
            "琉璃厂西街",
            "琉璃厂东街",
            "椿树胡同",
            "宣武门外大街",
            "红线胡同",
            "东南园胡同",
            "香炉营",
        ],
        &["椿树园小区", "宣武门外东大街小区", "琉璃厂小区"],
    ),
    (
        "110102016",
        &[
            "太平街",
            "陶然亭路",
            "黑窑厂街",
            "龙泉胡同",
            "米市胡同",
            "粉房琉璃街",
            "南华里",
        ],
        &["陶然北岸小区", "龙泉小区", "粉房琉璃街小区", "黑窑厂小区"],
    ),
    (
        "110102017",
        &[
            "广安门内大街",
            "报国寺前街",
            "校场口街",
            "长椿街",
            "宣武门西大街",
            "西便门内大街",
            "槐柏树街",
            "老墙根街",
        ],
        &["长椿街小区", "槐柏树街北里", "西便门东里", "报国寺小区"],
    ),
    (
        "110102018",
        &[
            "牛街",
            "南横西街",
            "教子胡同",
            "枣林前街",
            "春风胡同",
            "法源寺前街",
            "输入胡同",
        ],
        &["牛街东里", "牛街西里", "白广路小区", "枣林前街小区"],
    ),
    (
        "110102019",
        &[
            "白纸坊东街",
            "右安门内大街",
            "樱桃园",
            "菜园街",
            "自新路",
            "里仁街",
            "半步桥街",
            "平原里",
        ],
        &[
            "樱桃园小区",
            "建功北里",
            "平原里小区",
            "崇效寺小区",
            "双槐里",
        ],
    ),
    (
        "110102020",
        &[
            "广安门外大街",
            "广外南街",
            "红莲南路",
            "鸭子桥路",
            "小马厂路",
            "三义东里",
            "湾子街",
            "马连道路",
        ],
        &[
            "红莲小区",
            "天宁寺小区",
            "小马厂小区",
            "鸭子桥小区",
            "朗琴园",
            "马连道小区",
        ],
    ),
];

const FALLBACK_ROADS: &[&str] = &["中心路", "文化街", "建设路", "和平里"];
const FALLBACK_COMPOUNDS: &[&str] = &["中心小区", "和平小区"];

/// Where a caller lives: (road or compound for the title, full address).
pub fn address(rng: &mut Rng, street_code: &str) -> (String, String) {
    let (roads, compounds) = PLACES
        .iter()
        .find(|(c, _, _)| *c == street_code)
        .map(|(_, r, c)| (*r, *c))
        .unwrap_or((FALLBACK_ROADS, FALLBACK_COMPOUNDS));
    match rng.below(10) {
        0..=3 => {
            let road = rng.pick(roads);
            (road.to_string(), format!("{road}{}号", rng.range(1, 120)))
        }
        4..=6 => {
            let road = rng.pick(roads);
            (
                road.to_string(),
                format!(
                    "{road}{}号院{}号楼{}单元",
                    rng.range(1, 80),
                    rng.range(1, 12),
                    rng.range(1, 6)
                ),
            )
        }
        _ => {
            let c = rng.pick(compounds);
            (
                c.to_string(),
                format!(
                    "{c}{}号楼{}单元{}{:02}",
                    rng.range(1, 25),
                    rng.range(1, 6),
                    rng.range(1, 19),
                    rng.range(1, 5)
                ),
            )
        }
    }
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅", "沈", "曾", "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛",
    "叶", "阎", "白", "崔", "田", "关", "金",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建国", "建华", "淑珍", "玉兰", "志强",
    "海燕", "春生", "丽华", "晓东", "凤兰", "子涵", "雨欣", "浩然", "思远", "文博", "佳怡", "一鸣",
    "俊杰", "淑华", "德明", "振华", "玉梅", "桂兰", "国庆", "红梅", "晓燕", "立新",
];

/// A caller's name as the operator records it: full name, 姓 + 先生/女士, or none.
pub fn caller_name(rng: &mut Rng) -> Option<String> {
    let s = rng.pick(SURNAMES);
    match rng.below(20) {
        0..=11 => Some(format!("{s}{}", rng.pick(GIVEN))),
        12..=14 => Some(format!("{s}先生")),
        15..=17 => Some(format!("{s}女士")),
        _ => None,
    }
}

const MOBILE_PREFIXES: &[u16] = &[
    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
    166, 176, 177, 178, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199,
];

/// A mainland mobile (most) or a Beijing landline, in canonical digits.
pub fn phone(rng: &mut Rng) -> String {
    if rng.chance(0.06) {
        format!("010{}{:07}", rng.pick(&[6u8, 8]), rng.below(10_000_000))
    } else {
        format!("{}{:08}", rng.pick(MOBILE_PREFIXES), rng.below(100_000_000))
    }
}

/// What is wrong, per leaf category. Slots: `{temp}` room temperature, `{time}` a time of day.
const ISSUES: &[(&str, &[&str])] = &[
    (
        "heating.no-heat",
        &[
            "家里暖气不热，室温只有{temp}度",
            "暖气片上凉下热，屋里冷得要穿棉袄",
            "整栋楼暖气都不热，室温达不到18度",
            "暖气片摸着冰凉，屋里只有{temp}度",
        ],
    ),
    (
        "heating.leak",
        &[
            "暖气管接口漏水，地板都泡了",
            "楼上暖气跑水，水顺着墙往下流",
            "暖气阀门一直滴水止不住",
        ],
    ),
    (
        "heating.fee",
        &[
            "供暖费交了以后发票一直开不出来",
            "申请暖气报停被拒，还要求全额交取暖费",
            "今年的供暖费收费标准和去年不一样",
        ],
    ),
    (
        "heating.schedule",
        &[
            "天气已经很冷了，家里还没来暖",
            "希望今年能提前供暖",
            "小区到现在还没有试水开栓",
        ],
    ),
    (
        "property.service",
        &[
            "物业公司不作为，楼道卫生长期没人打扫",
            "小区保安形同虚设，外来人员随便进出",
            "物业服务差，报修好几次都没人来",
        ],
    ),
    (
        "property.fee",
        &[
            "物业突然上涨物业费，没有经过业主大会",
            "物业收取的停车管理费标准不公开",
            "小区公共收益去向不明，物业不公示",
        ],
    ),
    (
        "property.elevator",
        &[
            "单元电梯坏了停运，老人上下楼很困难",
            "电梯运行时有异响，经常突然停顿",
            "电梯困人，物业半个多小时才来人",
        ],
    ),
    (
        "property.facilities",
        &[
            "楼道灯坏了，晚上黑漆漆的",
            "单元门门禁损坏，谁都能进",
            "顶楼漏水，墙皮都泡了",
        ],
    ),
    (
        "property.committee",
        &[
            "业委会选举程序不规范",
            "想更换物业，业委会迟迟不组织业主大会",
            "原物业退出后新物业一直没有选聘",
        ],
    ),
    (
        "housing.public-rental",
        &[
            "公租房申请提交很久了，一直在轮候没有消息",
            "保障房资格审核结果迟迟不出",
            "公租房租金补贴停发了",
        ],
    ),
    (
        "housing.renovation",
        &[
            "老旧小区改造施工进度太慢",
            "加装电梯的事情一直推进不下去",
            "外保温改造后墙面开裂",
        ],
    ),
    (
        "housing.repair",
        &[
            "直管公房屋顶渗水，下雨就往屋里漏",
            "平房墙皮大面积脱落",
            "公房墙体出现裂缝",
        ],
    ),
    (
        "housing.rental",
        &[
            "租房到期后中介押金不退",
            "楼里有人群租，一套房住了十几个人",
            "二房东违约，强行让我们搬走",
        ],
    ),
    (
        "housing.title",
        &[
            "买房多年房产证一直办不下来",
            "办理不动产登记过户材料被反复退回",
            "产权证上的面积和实际不符",
        ],
    ),
    (
        "housing.vacating",
        &[
            "申请式退租的补偿方案一直不清楚",
            "院落腾退后留下的空房没人管",
            "退租后的安置房迟迟不能入住",
        ],
    ),
    (
        "market.consumer",
        &[
            "健身房突然关门，预付卡里的钱退不了",
            "美容店办卡以后商家跑路了",
            "买的商品有质量问题，商家拒不退款",
        ],
    ),
    (
        "market.food-safety",
        &[
            "在附近餐馆吃完饭全家拉肚子",
            "超市在卖过期食品",
            "路边无证餐饮后厨卫生很差",
        ],
    ),
    (
        "market.price",
        &[
            "超市价签和结账价格不一致",
            "停车场收费过高，没有明码标价",
            "附近商户乱涨价",
        ],
    ),
    (
        "market.street-vendor",
        &[
            "路口每天晚上有流动摊贩占道经营",
            "商铺店外经营，把人行道都占满了",
            "早市小商贩摆摊堵住了出行道路",
        ],
    ),
    (
        "medical.service",
        &[
            "社区卫生服务中心开药限制太多",
            "医院挂号太难，号源总是抢不到",
            "医生态度不好，看病不到三分钟就打发走了",
        ],
    ),
    (
        "medical.insurance",
        &[
            "医保报销的钱一直没有到账",
            "异地就医备案办不下来",
            "门诊报销比例和政策说的不一样",
        ],
    ),
    (
        "medical.public-health",
        &[
            "楼里蟑螂老鼠特别多",
            "小区附近积水坑蚊虫很多",
            "饭馆里有人吸烟没人管",
        ],
    ),
    (
        "construction.noise",
        &[
            "附近工地{time}还在施工，噪音特别大",
            "工地渣土车进进出出，扬尘很严重",
            "夜间施工打桩，吵得整夜睡不着",
        ],
    ),
    (
        "construction.decoration",
        &[
            "楼上装修每天砸墙、电钻声不断",
            "邻居装修周末一大早就开工",
            "楼上装修疑似拆改承重墙",
        ],
    ),
    (
        "construction.illegal",
        &[
            "院里有人私搭乱建，加盖了一间房",
            "楼顶有人违规搭建彩钢房",
            "一楼住户私挖地下室",
        ],
    ),
    (
        "traffic.parking",
        &[
            "小区周边停车难，每天下班都找不到车位",
            "路侧停车收费标准不清楚",
            "希望附近单位开放错时停车",
        ],
    ),
    (
        "traffic.illegal-parking",
        &[
            "有车辆长期违停堵在院门口",
            "胡同里乱停车把消防通道堵死了",
            "路边有辆僵尸车停了半年没人管",
        ],
    ),
    (
        "traffic.signal",
        &[
            "路口红绿灯坏了，车辆和行人很乱",
            "斑马线标线模糊看不清",
            "路口早晚高峰拥堵严重，信号灯配时不合理",
        ],
    ),
    (
        "traffic.bicycles",
        &[
            "共享单车乱停乱放，堵住了胡同口",
            "地铁口共享单车淤积，占用盲道",
            "共享单车堆在小区门口没人清理",
        ],
    ),
    (
        "noise.commercial",
        &[
            "楼下商铺用音响大声叫卖",
            "饭馆的空调外机噪音太大，晚上睡不着",
            "附近酒吧{time}还在放音乐",
        ],
    ),
    (
        "noise.neighborhood",
        &[
            "小区广场舞音响声音太大",
            "楼上邻居{time}还在跺脚吵闹",
            "邻居家的狗整天叫",
        ],
    ),
    (
        "sanitation.garbage",
        &[
            "垃圾桶站满溢，好几天没人清运",
            "小区门口的大件垃圾堆了很久没人管",
            "垃圾分类桶站脏乱，气味很大",
        ],
    ),
    (
        "sanitation.toilet",
        &[
            "胡同公厕堵塞，臭味很大",
            "公共厕所晚上不开放",
            "公厕的冲水设备坏了",
        ],
    ),
    (
        "sanitation.fumes",
        &[
            "楼下饭店油烟直排，呛得不敢开窗",
            "路边露天烧烤油烟很大",
            "餐馆排烟管道正对着居民窗户",
        ],
    ),
    (
        "sanitation.street-cleaning",
        &[
            "路面积雪没人清扫，很滑",
            "道路落叶堆积无人清扫",
            "马路保洁不到位，垃圾很多",
        ],
    ),
    (
        "sanitation.pollution",
        &[
            "附近有刺鼻的异味，不知道是什么在排放",
            "污水直接排到路边",
            "有人在院里焚烧垃圾",
        ],
    ),
    (
        "labor.wage",
        &[
            "公司拖欠三个月工资不发",
            "装修队老板拖欠农民工工资",
            "单位克扣加班费",
        ],
    ),
    (
        "labor.social-insurance",
        &[
            "单位一直没给交社保",
            "养老金领取资格认证办不下来",
            "社保断缴以后想补缴不知道怎么办",
        ],
    ),
    (
        "labor.employment",
        &[
            "公司不签劳动合同就让上班",
            "被公司违法辞退，没有经济补偿",
            "试用期被无故辞退",
        ],
    ),
    (
        "education.enrollment",
        &[
            "孩子幼升小入学登记审核没有通过",
            "学区划片政策不清楚，担心孩子上不了对口学校",
            "转学手续办理困难",
        ],
    ),
    (
        "education.school",
        &[
            "学校课后服务收费不合理",
            "学校食堂饭菜质量差",
            "老师布置的作业负担太重",
        ],
    ),
    (
        "education.training",
        &[
            "培训机构关门，剩下的课时费退不了",
            "有校外培训机构违规开展学科类培训",
            "补习班退费被拒",
        ],
    ),
    (
        "elderly.home-care",
        &[
            "想给家里老人申请助餐服务",
            "养老驿站的上门助浴服务约不上",
            "父母食堂的饭菜价格涨了",
        ],
    ),
    (
        "elderly.institution",
        &[
            "养老院护理员照护不到位",
            "想申请公办养老机构床位",
            "养老机构护理费上涨",
        ],
    ),
    (
        "elderly.allowance",
        &[
            "老人的高龄津贴几个月没有发放",
            "养老助残卡丢了想补办",
            "老年优待卡办理进度很慢",
        ],
    ),
    (
        "elderly.emergency-call",
        &[
            "家里老人的一键呼设备坏了",
            "申请安装一键呼设备一直没人来装",
            "紧急呼叫器按了没有反应",
        ],
    ),
    (
        "childcare.nursery",
        &[
            "附近找不到普惠托育机构",
            "托育机构收费太高",
            "托班名额太少报不上",
        ],
    ),
    (
        "childcare.kindergarten",
        &[
            "孩子入园难，附近的普惠园报不上",
            "幼儿园乱收费",
            "幼儿园保育老师态度不好",
        ],
    ),
    (
        "enterprise.registration",
        &[
            "企业营业执照变更登记一直办不下来",
            "公司注销流程太复杂",
            "经营许可证审批时间过长",
        ],
    ),
    (
        "enterprise.support",
        &[
            "企业申请的扶持资金迟迟没有兑现",
            "想了解企业落户的政策",
            "企业办公用房租金补贴申请没有回音",
        ],
    ),
    (
        "enterprise.finance",
        &[
            "银行网点排队时间太长",
            "小微企业贷款申请太难",
            "金融机构服务不规范",
        ],
    ),
    (
        "enterprise.tax",
        &[
            "发票开具遇到问题",
            "个人所得税退税一直没到账",
            "纳税申报系统登录不上",
        ],
    ),
    (
        "water.outage",
        &[
            "家里突然停水，也没有提前通知",
            "水压很低，楼上几乎没水",
            "整栋楼都不来水",
        ],
    ),
    (
        "water.quality",
        &[
            "自来水发黄浑浊",
            "自来水有异味不敢喝",
            "二次供水的水箱很久没清洗",
        ],
    ),
    (
        "water.pipe",
        &[
            "楼下自来水管爆裂，水流了一地",
            "水表井往外冒水",
            "路边供水管道漏水",
        ],
    ),
    (
        "water.drainage",
        &["下水道堵塞，污水外溢", "卫生间下水返味", "雨后路口积水很深"],
    ),
    (
        "power.outage",
        &[
            "家里突然停电",
            "这片频繁停电，冰箱里的东西都坏了",
            "电压不稳，电器用不了",
        ],
    ),
    (
        "power.facilities",
        &[
            "电线杆倾斜，电线耷拉得很低",
            "楼道电箱电线老化",
            "变压器噪音很大",
        ],
    ),
    (
        "power.charging",
        &[
            "想在小区安装充电桩，物业不同意",
            "充电桩报装一直没有进展",
            "公共充电桩经常被燃油车占用",
        ],
    ),
    (
        "gas.leak",
        &[
            "楼道里有很浓的煤气味",
            "家里燃气表附近漏气",
            "闻到燃气味，担心有泄漏",
        ],
    ),
    (
        "gas.supply",
        &[
            "燃气卡充值以后还是没气",
            "燃气灶打不着，燃气公司一直没人来",
            "燃气开栓预约排不上",
        ],
    ),
    (
        "greening.trees",
        &[
            "楼前大树树枝挡住窗户，屋里没有阳光",
            "有棵枯树随时可能倒伏",
            "杨柳絮太多，希望治理",
        ],
    ),
    (
        "greening.green-space",
        &[
            "小区绿地被人毁绿种菜",
            "口袋公园的设施损坏没人修",
            "绿化带长期没有养护",
        ],
    ),
    (
        "greening.pests",
        &[
            "树上有很多美国白蛾",
            "树上的虫子掉得到处都是",
            "希望对行道树打药治虫",
        ],
    ),
    (
        "municipal.road",
        &[
            "人行道步道砖松动，老人差点摔倒",
            "路面坑洼不平，下雨全是积水",
            "路面出现塌陷",
        ],
    ),
    (
        "municipal.manhole",
        &[
            "路口井盖破损，很危险",
            "井盖丢失，没有任何警示",
            "井盖松动，车压过去响声很大",
        ],
    ),
    (
        "municipal.streetlight",
        &[
            "胡同路灯不亮，晚上出行很危险",
            "好几盏路灯都坏了",
            "路灯白天亮、晚上反而不亮",
        ],
    ),
    (
        "municipal.facilities",
        &["路边护栏倒了没人扶", "小区健身器材损坏", "公交站的座椅坏了"],
    ),
    (
        "order.public-security",
        &["楼里有人搞传销", "电动车电瓶被盗", "附近有可疑人员经常徘徊"],
    ),
    (
        "order.dogs",
        &[
            "有人遛狗不拴绳，狗追着孩子跑",
            "小区里有大型犬出没",
            "草坪上到处是狗粪没人清理",
        ],
    ),
    (
        "order.vagrancy",
        &[
            "地下通道有流浪人员露宿",
            "路口有人长期乞讨",
            "天冷了，桥下有无家可归的老人",
        ],
    ),
    (
        "civil.assistance",
        &[
            "家里生活困难，想申请低保",
            "临时救助申请提交后没有下文",
            "这个月的低保金没有发放",
        ],
    ),
    (
        "civil.disability",
        &[
            "残疾证办理进度太慢",
            "小区出入口没有无障碍坡道",
            "残疾人辅具申请一直没有批",
        ],
    ),
    (
        "civil.veterans",
        &[
            "退役军人优待证一直没收到",
            "优抚金发放有问题",
            "军属优待政策没有落实",
        ],
    ),
    (
        "civil.marriage",
        &[
            "婚姻登记预约不上",
            "结婚证丢了想补领",
            "想了解离婚登记需要准备什么",
        ],
    ),
    (
        "civil.legal-aid",
        &[
            "想申请法律援助",
            "邻里纠纷希望人民调解",
            "需要免费的法律咨询",
        ],
    ),
    (
        "culture.tourism",
        &[
            "胡同游三轮车拉客宰客",
            "景区门口有黑导游",
            "旅行社的行程和合同不符",
        ],
    ),
    (
        "culture.venues",
        &[
            "图书馆开放时间太短",
            "网吧接纳未成年人上网",
            "附近娱乐场所噪音扰民",
        ],
    ),
    (
        "commerce.retail",
        &[
            "附近菜市场关了，买菜很不方便",
            "小区周边没有早餐点",
            "修鞋配钥匙的便民网点被撤了",
        ],
    ),
    (
        "safety.fire",
        &[
            "楼道里堆放杂物，堵塞消防通道",
            "有人从楼上飞线给电动车充电",
            "楼道的灭火器过期了",
        ],
    ),
    (
        "safety.building",
        &[
            "楼体外墙有瓷砖脱落",
            "空调外机支架松动，随时可能掉下来",
            "危房墙体开裂",
        ],
    ),
    (
        "safety.production",
        &[
            "附近商铺违规存放液化气罐",
            "工地违规动火作业",
            "有人违规存放危险化学品",
        ],
    ),
];

const DURATIONS: &[&str] = &[
    "从昨天开始",
    "这几天一直这样",
    "已经一个多星期了",
    "从上周开始",
    "最近一个月经常这样",
    "今天早上开始",
    "反复出现好几次了",
    "前天晚上开始",
];
const TIMES: &[&str] = &[
    "夜里十一点多",
    "凌晨一两点",
    "晚上十点以后",
    "早上五点多",
    "中午午休时间",
];
const ASKS: &[&str] = &[
    "尽快派人来处理",
    "有关部门尽快解决",
    "相关部门管一管",
    "尽快给个答复",
    "相关部门协调解决",
];
/// Asks for things that break and get repaired.
const REPAIR_ASKS: &[&str] = &[
    "尽快派人检修",
    "尽快派人来维修",
    "尽快安排抢修",
    "尽快派人来看看",
];
/// A caller's own affair (wages, benefits, papers …): no address-bound nuisance.
const PERSONAL_DURATIONS: &[&str] = &[
    "已经跑了好几趟了",
    "等了两个多月了",
    "问了好几个地方都没有结果",
    "一直没有答复",
    "打了好几次电话都没人说得清楚",
];
const PERSONAL_IMPACTS: &[&str] = &[
    "心里很着急",
    "家里生活受到很大影响",
    "不知道该找谁",
    "家里老人身体不好，经不起来回折腾",
];
const PERSONAL_ASKS: &[&str] = &[
    "相关部门给个说法",
    "尽快给予答复",
    "帮忙协调解决",
    "帮忙查一下办理进度",
    "相关部门帮忙解决",
];

/// Whether the leaf is about the caller's own affairs rather than a place.
fn personal(top: &str, leaf: &str) -> bool {
    matches!(
        top,
        "labor" | "civil" | "education" | "childcare" | "enterprise" | "elderly"
    ) || matches!(
        leaf,
        "medical.service"
            | "medical.insurance"
            | "housing.public-rental"
            | "housing.title"
            | "housing.vacating"
            | "housing.rental"
            | "market.consumer"
            | "heating.fee"
            | "property.fee"
            | "power.charging"
            | "gas.supply"
            | "culture.tourism"
    )
}

fn repairable(top: &str, leaf: &str) -> bool {
    matches!(top, "heating" | "water" | "power" | "gas" | "municipal")
        || matches!(
            leaf,
            "property.elevator" | "property.facilities" | "housing.repair" | "sanitation.toilet"
        )
}

/// Whether a 举报 (report of wrongdoing) makes sense for the leaf.
pub fn reportable(top: &str, leaf: &str) -> bool {
    matches!(
        top,
        "order" | "market" | "construction" | "safety" | "culture"
    ) || matches!(
        leaf,
        "sanitation.fumes"
            | "sanitation.pollution"
            | "noise.commercial"
            | "traffic.illegal-parking"
            | "labor.wage"
            | "education.training"
            | "housing.rental"
            | "medical.public-health"
    )
}
const WHOM: &[&str] = &["物业", "社区", "居委会", "相关单位", "街道"];
const NO_RESULT: &[&str] = &[
    "一直没人管",
    "对方说不归他们管",
    "说好来处理但一直没来",
    "几家单位推来推去",
];

/// Why it matters to the caller, per top category.
fn impacts(top: &str) -> &'static [&'static str] {
    match top {
        "heating" => &[
            "家里有老人，冻得受不了",
            "孩子已经冻感冒了",
            "开着电暖气都不管用",
            "晚上冻得睡不着觉",
        ],
        "noise" | "construction" => &[
            "晚上根本睡不好",
            "家里老人心脏不好，受不了这种吵",
            "孩子马上要考试了，没法学习",
        ],
        "water" | "power" | "gas" => &[
            "做饭洗漱都成问题",
            "家里有卧床老人，非常着急",
            "影响全楼住户正常生活",
        ],
        "safety" | "municipal" => &[
            "存在很大的安全隐患",
            "老人孩子路过很危险",
            "已经有人差点出事",
        ],
        _ => &[
            "严重影响正常生活",
            "给居民带来很大不便",
            "老人孩子都受影响",
            "大家意见很大",
        ],
    }
}

/// The problem statement for a leaf: its own phrases, else one built from its name/keywords.
fn issue(rng: &mut Rng, leaf: &str, leaf_name: &str, keywords: &[String]) -> String {
    let raw = match ISSUES.iter().find(|(c, _)| *c == leaf) {
        Some((_, phrases)) => rng.pick(phrases).to_string(),
        None => match keywords.first() {
            Some(_) => format!("{}的问题（{}）", leaf_name, rng.pick(keywords)),
            None => format!("{leaf_name}方面的问题"),
        },
    };
    let time = *rng.pick::<&str>(TIMES);
    raw.replace("{temp}", &rng.range(11, 17).to_string())
        .replace("{time}", time)
}

/// The inputs of a caller's text.
pub struct Call<'a> {
    pub street_name: &'a str,
    pub address: &'a str,
    pub top: &'a str,
    pub leaf: &'a str,
    pub leaf_name: &'a str,
    pub keywords: &'a [String],
    pub unit_name: &'a str,
}

const CONSULT_TOPICS: &[&str] = &[
    "居住证办理",
    "老年卡申领",
    "城乡居民医保缴费",
    "新生儿落户",
    "公积金提取",
    "居住停车证办理",
    "残疾人补贴",
    "灵活就业人员社保缴纳",
    "租房提取公积金",
    "出生医学证明办理",
    "独生子女父母奖励",
    "老旧小区加装电梯补贴",
];
const CONSULT_QS: &[&str] = &[
    "需要准备哪些材料？",
    "应该去哪里办理？",
    "办理流程是什么样的？",
    "有没有相关的补贴政策？",
    "大概多长时间能办下来？",
    "能不能在网上办理？",
];

/// A complaint or help request as a caller says it (first person) or an operator records it.
pub fn complaint(rng: &mut Rng, c: &Call) -> String {
    let issue = issue(rng, c.leaf, c.leaf_name, c.keywords);
    let st = c.street_name;
    if personal(c.top, c.leaf) {
        let dur = rng.pick(PERSONAL_DURATIONS);
        let impact = rng.pick(PERSONAL_IMPACTS);
        let ask = rng.pick(PERSONAL_ASKS);
        return match rng.below(4) {
            0 => format!("我是{st}的居民，{issue}，{dur}，{impact}，希望{ask}。"),
            1 => format!("市民来电反映：{issue}，{dur}，{impact}。来电人希望{ask}。"),
            2 => format!("来电人住{st}{}，称{issue}，{dur}，要求{ask}。", c.address),
            _ => format!("你好，我想问问，{issue}，{dur}，{impact}，麻烦{ask}，谢谢。"),
        };
    }
    let dur = rng.pick(DURATIONS);
    let impact = rng.pick(impacts(c.top));
    let ask = if repairable(c.top, c.leaf) && rng.chance(0.6) {
        rng.pick(REPAIR_ASKS)
    } else {
        rng.pick(ASKS)
    };
    let addr = c.address;
    match rng.below(5) {
        0 => format!("我是{st}{addr}的居民，{issue}，{dur}，{impact}，希望{ask}。"),
        1 => format!("市民来电反映：{st}{addr}{issue}，{dur}，{impact}。来电人希望{ask}。"),
        2 => format!(
            "我家住在{st}{addr}，{issue}，{dur}。已经找过{}，{}，{impact}，请{ask}。",
            rng.pick(WHOM),
            rng.pick(NO_RESULT)
        ),
        3 => format!("来电人称{st}{addr}{issue}，{impact}，要求{ask}。"),
        _ => format!("你好，我想反映一下，{addr}这边{issue}，{dur}，{impact}，麻烦{ask}，谢谢。"),
    }
}

pub fn report(rng: &mut Rng, c: &Call) -> String {
    let issue = issue(rng, c.leaf, c.leaf_name, c.keywords);
    match rng.below(2) {
        0 => format!(
            "市民来电举报：{}{}{issue}，{}，希望相关部门依法查处。",
            c.street_name,
            c.address,
            rng.pick(DURATIONS)
        ),
        _ => format!(
            "我要举报，{}这里{issue}，不是第一次了，请执法部门来查一查。来电人要求对举报人信息保密。",
            c.address
        ),
    }
}

pub fn consultation(rng: &mut Rng, c: &Call) -> String {
    let q = rng.pick(CONSULT_QS);
    if c.leaf.starts_with("consult") {
        format!("来电咨询{}的政策，{q}", rng.pick(CONSULT_TOPICS))
    } else {
        match rng.below(2) {
            0 => format!(
                "我是{}的居民，想咨询一下{}方面的事情，{q}",
                c.street_name, c.leaf_name
            ),
            _ => format!(
                "来电人咨询：{}，这种情况应该找哪个部门？{q}",
                issue(rng, c.leaf, c.leaf_name, c.keywords)
            ),
        }
    }
}

const SUGGESTIONS: &[&str] = &[
    "在附近增设几处休息座椅",
    "在胡同口加装照明",
    "增加巡查频次",
    "多听听居民的意见",
    "在公告栏及时公示办理进度",
    "把便民服务点设得离居民近一些",
    "在小区门口增设非机动车停放区",
];

pub fn suggestion(rng: &mut Rng, c: &Call) -> String {
    format!(
        "我是{}{}的居民，关于{}有个建议：希望{}，{}。",
        c.street_name,
        c.address,
        c.leaf_name,
        rng.pick(SUGGESTIONS),
        rng.pick(&["方便大家生活", "这样能少很多矛盾", "居民都很期待"])
    )
}

const PRAISES: &[&str] = &[
    "上次反映的问题很快就解决了，工作人员态度特别好",
    "工作人员冒着雨上门处理，非常负责",
    "工作人员耐心帮家里老人办好了手续，非常感谢",
    "问题处理得又快又好，给你们点赞",
];

pub fn praise(rng: &mut Rng, c: &Call) -> String {
    format!(
        "来电表扬{}的工作人员：{}，特此表扬。",
        c.unit_name,
        rng.pick(PRAISES)
    )
}

/// The title a work order gets.
pub fn title(place: &str, leaf_name: &str) -> String {
    format!("反映{place}{leaf_name}问题")
}

/// What the unit did, per top category.
fn actions(top: &str) -> &'static [&'static str] {
    match top {
        "heating" => &[
            "热力公司维修人员已上门检修，排气后室温已达到18度以上",
            "已更换漏水阀门，恢复正常供暖",
            "已向诉求人解释供暖收费政策和报停办理流程",
        ],
        "property" => &[
            "已督促物业公司整改，加强保洁和巡查",
            "已协调物业维修，设施恢复正常",
            "已约谈物业公司负责人，要求限期整改",
        ],
        "housing" => &[
            "已向诉求人解释相关政策，并告知办理流程和进度",
            "已安排房屋维修队上门维修",
            "已将问题纳入改造计划，并答复诉求人",
        ],
        "market" => &[
            "执法人员已到现场检查，责令商户整改",
            "已组织双方调解，商家同意退款",
            "已对违规经营行为立案调查",
        ],
        "medical" => &[
            "已协调医院核实情况并向诉求人反馈",
            "已向诉求人解释医保报销政策和办理流程",
            "卫生监督人员已到现场检查并督促整改",
        ],
        "construction" => &[
            "执法人员已到现场，责令施工单位停止夜间施工",
            "已责令当事人限期拆除违法建设",
            "已上门劝导装修户合理安排施工时间",
        ],
        "traffic" => &[
            "交通支队已到现场处置违停车辆",
            "已将停车需求纳入街道停车治理方案",
            "已协调运营企业清理淤积车辆",
        ],
        "noise" => &[
            "执法人员已到现场检查，责令商户降低音量",
            "社区已上门调解，双方达成一致",
            "已约谈广场舞团队负责人，降低音量并调整时间",
        ],
        "sanitation" => &[
            "已安排环卫人员清运并加强巡查",
            "已督促餐饮单位安装油烟净化设施",
            "已清扫完毕，并增加保洁频次",
        ],
        "labor" => &[
            "劳动监察大队已约谈用人单位，督促支付欠薪",
            "已向诉求人解释社保政策并告知补缴流程",
            "已告知诉求人可通过劳动仲裁途径维护权益",
        ],
        "education" => &[
            "已向诉求人解释入学政策和审核标准",
            "已责令学校整改并加强管理",
            "已协调培训机构办理退费",
        ],
        "elderly" => &[
            "已为老人办理相关服务申请",
            "已协调养老驿站安排上门服务",
            "已核实津贴发放情况，近期补发到位",
        ],
        "water" => &[
            "自来水公司已抢修完毕，恢复供水",
            "已对水质进行检测并冲洗管道，水质合格",
            "已疏通管道，恢复正常",
        ],
        "power" => &[
            "供电公司已抢修完毕，恢复供电",
            "已安排人员检修电力设施",
            "已受理充电桩报装并安排现场勘察",
        ],
        "gas" => &[
            "燃气公司已到场检测处置，排除安全隐患",
            "已为用户检修燃气设备，恢复供气",
        ],
        "greening" => &[
            "园林部门已对树木进行修剪",
            "已安排打药防治病虫害",
            "已对绿地进行补植和养护",
        ],
        "municipal" => &[
            "已安排维修人员修复",
            "已更换井盖并设置警示标志",
            "已维修路灯，恢复照明",
        ],
        "order" => &[
            "公安机关已介入调查处理",
            "已联系救助站进行救助",
            "已加强巡逻并开展文明养犬宣传",
        ],
        "civil" => &[
            "已向诉求人解释政策并协助提交申请材料",
            "已协调相关科室加快办理",
            "已为诉求人安排法律援助律师",
        ],
        "safety" => &[
            "已组织清理楼道堆物，消除消防隐患",
            "已对外墙进行排险加固",
            "已责令违规存放单位整改",
        ],
        _ => &[
            "已向诉求人详细解答相关政策和办理流程",
            "已安排工作人员现场核实并处理",
            "已协调相关单位解决",
        ],
    }
}

pub fn reply(rng: &mut Rng, top: &str, unit_name: &str) -> String {
    format!(
        "经核实，{unit_name}已安排工作人员{}与诉求人沟通，{}。已将办理结果告知诉求人。",
        rng.pick(&["电话", "上门", "现场"]),
        rng.pick(actions(top))
    )
}

pub fn answer_on_the_spot(rng: &mut Rng, leaf_name: &str, street_name: &str) -> String {
    format!(
        "话务员依据知识库当场解答：{leaf_name}相关事项可到{street_name}政务服务中心办理，或通过{}办理，需携带本人身份证及相关证明材料。",
        rng.pick(&["“京通”小程序", "北京市政务服务网", "“北京通”APP"])
    )
}

pub fn contact_note(rng: &mut Rng, reached: bool) -> String {
    if reached {
        rng.pick(&[
            "已电话联系诉求人，了解具体情况",
            "已与诉求人约定上门时间",
            "已上门查看现场情况",
            "已向诉求人说明办理安排",
        ])
        .to_string()
    } else {
        rng.pick(&["电话无人接听", "诉求人手机关机", "电话占线，稍后再联系"])
            .to_string()
    }
}

pub fn callback_note(rng: &mut Rng, resolved: bool, satisfied: &str) -> String {
    if resolved {
        format!(
            "诉求人表示问题{}，对办理结果{satisfied}。",
            rng.pick(&["已解决", "已经处理好了", "基本解决"])
        )
    } else {
        format!(
            "诉求人表示问题{}，对办理结果{satisfied}。",
            rng.pick(&["仍未解决", "没有实质性进展", "只是来人看了看"])
        )
    }
}

pub const UNREACHED_NOTES: &[&str] = &["电话无人接听", "诉求人手机关机", "号码无法接通"];
pub const EXTENSION_REASONS: &[&str] = &[
    "涉及多个部门协调，需要更多时间",
    "需要等待施工队排期维修",
    "需要召开业主大会表决",
    "需要报上级部门审批",
    "需要采购维修材料",
];
pub const SUSPEND_REASONS: &[&str] = &[
    "涉及历史遗留问题，需纳入长期规划解决",
    "需等待整体改造项目立项",
    "涉及产权纠纷，需待司法程序结束",
];
pub const ESCALATE_REASONS: &[&str] = &[
    "诉求人多次来电催办，请加快办理",
    "同类问题反复出现，请主要负责同志督办",
    "涉及群众切身利益，请限期办结",
];
pub const WHISTLE_REASONS: &[&str] = &[
    "该问题涉及多部门职责，街道吹哨，请相关部门到场报到，共同处置",
    "街道无执法权，请职能部门报到协同处置",
];
pub const REPORT_NOTES: &[&str] = &[
    "已到现场报到，配合街道处置",
    "已派执法人员到场，依职责处理",
    "已对接街道，明确分工",
];
pub const REOPEN_REASONS: &[&str] = &[
    "回访诉求人表示问题未解决，要求重新办理",
    "诉求人反映问题依旧存在，退回承办单位重办",
];
pub const OVERRULE_REASONS: &[&str] = &[
    "经核实，该事项属于贵单位职责范围，请按期办理",
    "根据职责清单，该诉求由属地街道牵头办理，退单理由不成立",
];
pub const DUPLICATE_PREFIXES: &[&str] =
    &["同一问题，", "之前已经有邻居反映过了，", "再次反映，", ""];

pub fn return_reason(correct_unit: Option<&str>) -> String {
    match correct_unit {
        Some(u) => format!("经核实，该诉求不属于我单位职责范围，建议转{u}办理。"),
        None => "经核实，该诉求不属于我单位职责范围，请重新派单。".to_string(),
    }
}
