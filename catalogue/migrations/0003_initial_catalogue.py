"""The catalogue every install starts with (SPEC §2.3): 001's eight categories with their items,
004's ten time-bank categories, the skills and certificate kinds they need, in fen and minutes.

The rows are initial data an admin edits afterwards; re-running adds only what is missing (by
code), never overwrites an admin's edit. Reversing deletes nothing an order may point at.
"""

from django.db import migrations

SKILLS = [
    ("visiting", "探视巡访"), ("emergency", "应急救助"), ("day_care", "日间照料"), ("shopping", "代购"),
    ("cooking", "做饭配餐"), ("meal_delivery", "送餐"), ("escort", "陪护"), ("cleaning", "保洁"),
    ("laundry", "洗衣"), ("appliance_repair", "家电维修"), ("plumbing", "管道疏通"), ("vital_signs", "生命体征测量"),
    ("medical_escort", "陪同就医"), ("rehab", "康复护理"), ("psychology", "心理疏导"), ("hospice", "临终关怀"),
    ("health_education", "健康宣教"), ("home_nursing", "居家护理"), ("culture", "文体活动组织"),
    ("companionship", "聊天陪伴"), ("mediation", "矛盾调解"), ("legal", "法律服务"), ("tutoring", "家教辅导"),
    ("patrol", "治安巡逻"), ("environment", "环境保护"), ("haircut", "理发"), ("bathing", "助浴"),
]

CERTIFICATES = [
    # (code, name, family, rank)
    ("eldercare_junior", "养老护理员（初级）", "eldercare", 1),
    ("eldercare_middle", "养老护理员（中级）", "eldercare", 2),
    ("eldercare_senior", "养老护理员（高级）", "eldercare", 3),
    ("eldercare_technician", "养老护理员（技师）", "eldercare", 4),
    ("nurse", "护士执业证书", "nurse", 1),
    ("doctor", "医师执业证书", "doctor", 1),
    ("health", "健康证", "health", 1),
    ("housekeeper", "家政服务员", "housekeeper", 1),
    ("electrician", "电工证", "electrician", 1),
    ("psychologist", "心理咨询师", "psychologist", 1),
    ("lawyer", "律师执业证", "lawyer", 1),
    ("social_worker", "社会工作者职业资格", "social_worker", 1),
]

ORDER = ["community", "grid", "elder"]  # a worker on the hotline or a visit, the elder or family
GOV_ORDER = ["community", "grid"]  # government-purchased: the community orders
TB_ORDER = ["community", "elder", "volunteer"]  # the time bank: members too

# category: (code, name, scheme, [items])
# item: (code, name, unit, price_fen, minutes, payment_modes, skills, certificates, outcomes, orderable_by)
CATEGORIES = [
    ("safety", "安全保障", "service", [
        ("call_device", "安装呼叫器", "visit", 0, 60, ["free", "government"], ["emergency"], ["electrician"], ["呼叫器已安装并测试"], GOV_ORDER),
        ("phone_check", "电话问候", "visit", 0, 10, ["free"], ["visiting"], [], ["已通话"], ORDER),
        ("home_visit", "上门探视", "visit", 0, 30, ["free"], ["visiting"], [], ["已见到老人"], ORDER),
        ("emergency_aid", "紧急救助", "visit", 0, 60, ["free", "government"], ["emergency"], [], ["已处置", "已通知家属"], ORDER),
    ]),
    ("daily_care", "生活照料", "service", [
        ("day_care", "日间托老", "visit", 3000, 480, ["low_cost", "paid", "government"], ["day_care"], ["eldercare_junior"], ["已接回家"], ORDER),
        ("shopping", "购物", "visit", 1000, 60, ["low_cost", "paid", "free"], ["shopping"], [], ["物品已交付"], ORDER),
        ("meal_prep", "配餐", "meal", 1200, 30, ["low_cost", "paid", "government"], ["cooking"], ["health"], ["餐食已备好"], ORDER),
        ("meal_delivery", "送餐", "meal", 300, 20, ["low_cost", "paid", "government"], ["meal_delivery"], ["health"], ["餐食已送达"], ORDER),
        ("escort", "陪护", "hour", 3000, 240, ["paid", "government"], ["escort"], ["eldercare_junior"], ["服药已协助"], ORDER),
        ("cleaning", "打扫卫生", "hour", 3500, 120, ["low_cost", "paid", "government"], ["cleaning"], ["housekeeper"], ["清洁已完成"], ORDER),
        ("cooking", "做饭", "visit", 2500, 90, ["low_cost", "paid", "government"], ["cooking"], ["health"], ["餐食已做好"], ORDER),
        ("laundry", "洗衣", "visit", 2000, 60, ["low_cost", "paid", "government"], ["laundry"], ["housekeeper"], ["衣物已洗净"], ORDER),
        ("appliance_repair", "家电维修", "visit", 3000, 60, ["low_cost", "paid"], ["appliance_repair"], ["electrician"], ["已修复或已说明原因"], ORDER),
        ("plumbing", "管道疏通", "visit", 5000, 60, ["low_cost", "paid"], ["plumbing"], [], ["管道已疏通"], ORDER),
        ("bathing", "助浴", "visit", 5000, 60, ["low_cost", "paid", "government"], ["bathing"], ["eldercare_middle"], ["助浴已完成", "皮肤状况已查看"], ORDER),
        ("haircut", "理发", "visit", 1000, 30, ["low_cost", "paid"], ["haircut"], [], [], ORDER),
    ]),
    ("health_care", "医疗保健", "service", [
        ("blood_pressure", "测血压", "visit", 0, 15, ["free", "low_cost"], ["vital_signs"], [], ["血压已记录"], ORDER),
        ("temperature", "量体温", "visit", 0, 10, ["free"], ["vital_signs"], [], ["体温已记录"], ORDER),
        ("medical_escort", "陪同看病", "hour", 3000, 180, ["low_cost", "paid", "government"], ["medical_escort"], ["eldercare_junior"], ["已返回家中"], ORDER),
        ("rehab", "康复护理", "hour", 8000, 60, ["paid", "government"], ["rehab"], ["eldercare_senior"], ["护理记录已填写"], ORDER),
        ("mental_health", "心理卫生", "visit", 0, 60, ["free", "government"], ["psychology"], ["psychologist"], ["已记录情绪状况"], ORDER),
        ("hospice", "临终关怀", "hour", 6000, 120, ["low_cost", "government"], ["hospice"], ["nurse"], ["护理记录已填写"], GOV_ORDER),
        ("health_education", "健康教育", "time", 0, 60, ["free"], ["health_education"], [], [], ORDER),
        ("home_sickbed", "家庭病床", "visit", 5000, 60, ["paid", "government"], ["home_nursing"], ["nurse"], ["服药已协助", "护理记录已填写"], GOV_ORDER),
        ("health_record", "建立健康档案", "visit", 0, 30, ["free"], ["health_education"], [], ["档案已建立"], ORDER),
    ]),
    ("culture", "文化娱乐", "service", [
        ("class", "学习培训", "time", 0, 90, ["free", "low_cost"], ["culture"], [], [], ORDER),
        ("calligraphy", "书法绘画", "time", 0, 90, ["free", "low_cost"], ["culture"], [], [], ORDER),
        ("lecture", "知识讲座", "time", 0, 60, ["free"], ["health_education"], [], [], ORDER),
        ("reading", "图书阅览", "time", 0, 60, ["free"], ["culture"], [], [], ORDER),
        ("fitness", "体育健身", "time", 0, 60, ["free"], ["culture"], [], [], ORDER),
    ]),
    ("comfort", "精神慰藉", "service", [
        ("chat", "聊天谈心", "hour", 0, 60, ["free", "time_coin"], ["companionship"], [], ["已陪伴"], ORDER),
        ("counselling", "心理咨询", "hour", 5000, 60, ["free", "low_cost", "paid", "government"], ["psychology"], ["psychologist"], ["已记录情绪状况"], ORDER),
        ("mediation", "劝解", "visit", 0, 60, ["free"], ["mediation"], [], ["已调解"], ORDER),
    ]),
    ("legal", "法律维权", "service", [
        ("legal_advice", "法律咨询", "visit", 0, 60, ["free"], ["legal"], [], [], ORDER),
        ("legal_aid", "法律援助", "visit", 0, 120, ["free", "government"], ["legal"], ["lawyer"], ["已受理"], ORDER),
    ]),
    ("other", "其它", "service", [
        ("other", "其它服务", "visit", 0, 60, ["free", "low_cost", "paid"], [], [], [], ORDER),
    ]),
    # 004: the ten categories of the 爱心时间银行, paid in time coins.
    ("tb_mutual_aid", "互助养老", "timebank", [
        ("tb_companionship", "结对陪伴", "hour", 0, 60, ["time_coin"], ["companionship"], [], ["已陪伴"], TB_ORDER),
        ("tb_errand", "代购代办", "hour", 0, 60, ["time_coin"], ["shopping"], [], ["物品已交付"], TB_ORDER),
    ]),
    ("tb_hardship", "社区帮困", "timebank", [
        ("tb_hardship_visit", "困难家庭帮扶", "hour", 0, 60, ["time_coin"], ["visiting"], [], [], TB_ORDER),
    ]),
    ("tb_tutoring", "义务家教", "timebank", [
        ("tb_tutoring", "课业辅导", "hour", 0, 60, ["time_coin"], ["tutoring"], [], [], TB_ORDER),
    ]),
    ("tb_legal_aid", "法律援助", "timebank", [
        ("tb_legal_advice", "法律咨询（志愿）", "hour", 0, 60, ["time_coin"], ["legal"], [], [], TB_ORDER),
    ]),
    ("tb_security", "社区治安", "timebank", [
        ("tb_patrol", "治安巡逻", "hour", 0, 120, ["time_coin"], ["patrol"], [], [], TB_ORDER),
    ]),
    ("tb_health", "医疗保健", "timebank", [
        ("tb_vital_signs", "义诊测量", "hour", 0, 60, ["time_coin"], ["vital_signs"], [], ["血压已记录"], TB_ORDER),
    ]),
    ("tb_health_talk", "健康讲座", "timebank", [
        ("tb_health_talk", "健康讲座（志愿）", "hour", 0, 60, ["time_coin"], ["health_education"], [], [], TB_ORDER),
    ]),
    ("tb_education", "社区教育", "timebank", [
        ("tb_class", "兴趣课堂", "hour", 0, 60, ["time_coin"], ["tutoring"], [], [], TB_ORDER),
    ]),
    ("tb_culture", "社区文体", "timebank", [
        ("tb_culture", "文体活动", "hour", 0, 90, ["time_coin"], ["culture"], [], [], TB_ORDER),
    ]),
    ("tb_environment", "社区环保", "timebank", [
        ("tb_environment", "环境整治", "hour", 0, 120, ["time_coin"], ["environment"], [], [], TB_ORDER),
    ]),
]


def load(apps, schema_editor):
    Skill = apps.get_model("catalogue", "Skill")
    CertificateKind = apps.get_model("catalogue", "CertificateKind")
    ServiceCategory = apps.get_model("catalogue", "ServiceCategory")
    ServiceItem = apps.get_model("catalogue", "ServiceItem")
    skills = {}
    for code, name in SKILLS:
        skills[code], _ = Skill.objects.get_or_create(code=code, defaults={"name": name})
    certs = {}
    for code, name, family, rank in CERTIFICATES:
        certs[code], _ = CertificateKind.objects.get_or_create(code=code, defaults={"name": name, "family": family, "rank": rank})
    for position, (code, name, scheme, items) in enumerate(CATEGORIES, start=1):
        category, _ = ServiceCategory.objects.get_or_create(code=code, defaults={"name": name, "scheme": scheme, "position": position})
        for item_position, (icode, iname, unit, price, minutes, modes, iskills, icerts, outcomes, orderable) in enumerate(items, 1):
            if ServiceItem.objects.filter(code=icode).exists():
                continue
            item = ServiceItem.objects.create(
                category=category,
                code=icode,
                name=iname,
                unit=unit,
                price_fen=price,
                duration_minutes=minutes,
                payment_modes=list(modes),
                outcomes=list(outcomes),
                orderable_by=list(orderable),
                position=item_position,
            )
            item.required_skills.set([skills[s] for s in iskills])
            item.required_certificates.set([certs[c] for c in icerts])


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_price_lists_entitlements")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
