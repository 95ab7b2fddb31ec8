"""Providers for a generated city (generate_city): about one caregiver per 400 elders (5,000 for
2,000,000), in organisations of ~20 staff each spread over the city's communities, each with a
certificate (one in twelve expiring within 60 days). Rows are built here and written in batches
through providers.services' bulk services (multi-row INSERTs; a few seconds for 5,000)."""

import datetime
import random

from django.utils import timezone

from devdata import demo
from devdata.demo_providers import _catalogue

STAFF_PER_ORG = 20
KINDS = [("aide", 0.35), ("carer", 0.25), ("nanny", 0.25), ("hourly", 0.10), ("nurse", 0.05)]
ORG_KINDS = ["housekeeping", "station", "service_org", "day_care", "social_org"]


def generate_providers(*, communities: list, caregivers: int, seed: str) -> dict:
    """Organisations and `caregivers` staff over `communities` (region rows); returns counts."""
    from providers.services import caregiver_bulk_create, certificate_bulk_create, organisation_bulk_create

    if caregivers <= 0 or not communities:
        return {"organisations": 0, "caregivers": 0}
    rng = random.Random(f"providers|{seed}")
    today = timezone.localdate()
    skills, kinds = _catalogue()
    n_orgs = max(1, caregivers // STAFF_PER_ORG)
    homes = rng.choices(communities, k=n_orgs)
    org_ids = organisation_bulk_create(
        rows=[
            {
                "name": f"{home.name}{['家政服务中心', '居家养老服务站', '护理服务社', '日间照料中心', '助老服务社'][i % 5]}{i // 5 + 1}",
                "kind": ORG_KINDS[i % 5],
                "region_id": home.pk,
                "rating": rng.choice(["", "1A", "2A", "3A", "4A", "5A"]),
                "rated_on": today - datetime.timedelta(days=rng.randint(30, 900)),
                "quota_amount": rng.choice([0, 100, 200, 400]),
            }
            for i, home in enumerate(homes)
        ]
    )
    kind_codes, weights = zip(*KINDS, strict=True)
    cert_for = {"aide": "养老护理员（初级）", "carer": "养老护理员（中级）", "nurse": "护士执业证书"}
    rows, certs_kind, certs_days = [], [], []
    for i in range(caregivers):
        sex = "F" if rng.random() < 0.85 else "M"
        birth = demo.birth_date_for_age(rng, today, 25, 60)
        kind = rng.choices(kind_codes, weights)[0]
        rows.append(
            {
                "organisation_id": org_ids[i % len(org_ids)],
                "kind": kind,
                "name": demo.person_name(rng, sex),
                "sex": sex,
                "birth_date": birth,
                "id_number": demo.id_number(rng, birth, sex, 2000 + i),
                "phone": demo.mobile(rng),
                "work_start": datetime.time(8, 0),
                "work_end": datetime.time(17, 30),
                "work_days": [1, 2, 3, 4, 5],
                "languages": "普通话",
            }
        )
        certs_kind.append(kinds[cert_for.get(kind, "健康证")])
        certs_days.append(rng.randint(5, 59) if i % 12 == 0 else rng.randint(60, 1000))
    ids = caregiver_bulk_create(rows=rows)
    certificate_bulk_create(
        rows=[
            {"caregiver_id": pk, "kind_id": k, "number": f"C{pk:09d}", "expires_on": today + datetime.timedelta(days=d)}
            for pk, k, d in zip(ids, certs_kind, certs_days, strict=True)
        ]
    )
    return {"organisations": len(org_ids), "caregivers": len(ids)}
