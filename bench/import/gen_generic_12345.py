# Generates N rows in the generic 12345 export layout (world/mappings/generic-12345.toml) from
# the Xicheng world files: a realistic mix of types, categories, streets, communities, units,
# statuses, replies and callbacks; deterministic (seed 5). Write the output outside the repo:
#   python3 bench/import/gen_generic_12345.py 1000000 /tmp/g1m.csv
import csv, random, sys, datetime
random.seed(5)
rows, out = int(sys.argv[1]), sys.argv[2]
W = __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), "../../world/xicheng/")
cats = [r for r in csv.DictReader(open(W+'categories.csv')) if r['responsible']]
streets = list(csv.DictReader(open(W+'streets.csv')))
comms = {}
for r in csv.DictReader(open(W+'communities.csv')):
    comms.setdefault(r['street_code'], []).append(r['name'])
units = {r['code']: r['name'] for r in csv.DictReader(open(W+'units.csv'))}
types = ['投诉']*5 + ['求助']*3 + ['咨询', '建议', '举报', '表扬']
texts = ['楼道堆满杂物，物业一直不清理，存在消防隐患', '小区门口长期有车违停，堵住出入口', '暖气不热，室温只有十五度',
         '夜间施工噪音扰民，严重影响休息', '路灯不亮已经一周了', '垃圾清运不及时，气味很大', '下水道堵塞污水外溢']
H = '工单编号,受理时间,诉求类型,问题分类,工单标题,诉求内容,所属街道,所属社区,详细地址,承办单位,办理时限,工单状态,答复时间,答复内容,回访时间,回访结果,满意度,办结时间'.split(',')
start = datetime.datetime(2025, 1, 1)
fmt = '%Y-%m-%d %H:%M:%S'
with open(out, 'w', newline='', encoding='utf-8') as f:
    w = csv.writer(f)
    w.writerow(H)
    for i in range(rows):
        t = start + datetime.timedelta(seconds=i * 30 + random.randint(0, 29))
        c = random.choice(cats)
        s = random.choice(streets)
        unit = s['code'] if c['responsible'] == 'street' else c['responsible']
        unit_name = units.get(unit, units[s['code']])
        closed = random.random() < 0.8
        reply_t = t + datetime.timedelta(hours=random.randint(2, 100))
        cb_t = reply_t + datetime.timedelta(hours=random.randint(1, 48))
        close_t = cb_t + datetime.timedelta(minutes=30)
        due = (t + datetime.timedelta(days=10)).strftime('%Y-%m-%d') if random.random() < 0.3 else ''
        cb = random.choice(['已解决', '已解决', '已解决', '未解决', '未联系上'])
        sat = random.choice(['满意', '满意', '基本满意', '不满意']) if cb != '未联系上' else ''
        w.writerow([
            f'G{i:08d}', t.strftime(fmt), random.choice(types), c['name'], '',
            random.choice(texts) + f'（{i}）', s['name'], random.choice(comms.get(s['code'], [''])),
            f"{s['name'][:-2]}{random.randint(1, 200)}号", unit_name, due,
            '已办结' if closed else '办理中',
            reply_t.strftime(fmt) if closed else '', '已处理完毕并告知市民' if closed else '',
            cb_t.strftime(fmt) if closed else '', cb if closed else '', sat if closed else '',
            close_t.strftime(fmt) if closed else '',
        ])
