"""Realistic healthcare payloads for the validation workloads (issue 18):
FHIR R4 Claim resources (~2.5 KiB, the size of the claims workload) and
HL7 v2.5.1 ADT^A01/A08 messages (~400 B), varied per sample (ids, names,
dates, codes, line items) so no two records are equal. Every sample passes
Carelog's fhir-r4 / hl7v2 validation and the independent oracles
(tests/system/test_validation.py::test_bench_payloads_are_valid_and_agree_with_the_oracles). Written one per line for
carelog-loadgen --payload-file (compact JSON has no newline; HL7 segments
end in \\r)."""

import json
import random

GIVEN = ["Jane", "John", "Maria", "Ahmed", "Wei", "Olga", "Kwame", "Priya", "Lucas", "Sofia"]
FAMILY = ["Doe", "Smith", "Garcia", "Khan", "Chen", "Ivanova", "Mensah", "Patel", "Silva", "Rossi"]
CPT = [("99213", "Office visit, established"), ("80053", "Comprehensive metabolic panel"),
       ("85025", "Complete blood count"), ("71046", "Chest X-ray, 2 views"), ("93000", "Electrocardiogram"),
       ("36415", "Venipuncture"), ("99284", "Emergency department visit"), ("81001", "Urinalysis")]
ICD10 = [("E11.9", "Type 2 diabetes mellitus"), ("I10", "Essential hypertension"), ("J06.9", "Acute URI"),
         ("M54.5", "Low back pain"), ("R07.9", "Chest pain, unspecified"), ("N39.0", "Urinary tract infection")]


def _date(rnd, year0=2024):
    return f"{year0 + rnd.randrange(2)}-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}"


def fhir_claim(rnd, n):
    items = []
    for seq in range(1, 7):
        code, display = rnd.choice(CPT)
        price = round(rnd.uniform(20, 900), 2)
        items.append({
            "sequence": seq,
            "diagnosisSequence": [1],
            "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": code,
                                             "display": display}]},
            "servicedDate": _date(rnd),
            "quantity": {"value": 1},
            "unitPrice": {"value": price, "currency": "USD"},
            "net": {"value": price, "currency": "USD"},
        })
    dx_code, dx_display = rnd.choice(ICD10)
    claim = {
        "resourceType": "Claim",
        "id": f"claim-{n:08d}",
        "identifier": [{"system": "http://payer.example.org/claims", "value": f"CLM{rnd.randrange(10**9):09d}"}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "professional"}]},
        "use": "claim",
        "patient": {"reference": f"Patient/p{rnd.randrange(10**7):07d}",
                    "display": f"{rnd.choice(GIVEN)} {rnd.choice(FAMILY)}"},
        "billablePeriod": {"start": _date(rnd), "end": _date(rnd, 2025)},
        "created": f"{_date(rnd)}T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:00Z",
        "provider": {"reference": f"Organization/org{rnd.randrange(10**5):05d}"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                 "code": "normal"}]},
        "payee": {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/payeetype",
                                       "code": "provider"}]}},
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [
            {"system": "http://hl7.org/fhir/sid/icd-10", "code": dx_code, "display": dx_display}]}}],
        "insurance": [{"sequence": 1, "focal": True,
                       "coverage": {"reference": f"Coverage/cov{rnd.randrange(10**6):06d}"}}],
        "item": items,
        "total": {"value": round(sum(i["net"]["value"] for i in items), 2), "currency": "USD"},
    }
    return json.dumps(claim, separators=(",", ":"))


def hl7_adt(rnd, n):
    event = rnd.choice(["A01", "A08"])
    ts = f"2025{rnd.randrange(1, 13):02d}{rnd.randrange(1, 29):02d}{rnd.randrange(24):02d}{rnd.randrange(60):02d}00"
    given, family = rnd.choice(GIVEN), rnd.choice(FAMILY)
    mrn = f"MRN{rnd.randrange(10**8):08d}"
    segs = [
        f"MSH|^~\\&|EPICADT|MERCYHOSP|CARELOG|DATAHUB|{ts}||ADT^{event}^ADT_A01|MSG{n:09d}|P|2.5.1",
        f"EVN|{event}|{ts}",
        f"PID|1||{mrn}^^^MERCY^MR||{family.upper()}^{given.upper()}^Q||19{rnd.randrange(30, 99)}0{rnd.randrange(1, 10)}1{rnd.randrange(10)}"
        f"|{rnd.choice('FM')}|||{rnd.randrange(1, 999)} MAIN ST^^SPRINGFIELD^IL^62701||(555)555-{rnd.randrange(10**4):04d}",
        f"PV1|1|I|WARD{rnd.randrange(1, 9)}^{rnd.randrange(100, 399)}^A||||{rnd.randrange(1000, 9999)}^WELBY^MARCUS"
        f"|||MED||||ADM|||||||||||||||||||||||||{ts}",
        f"DG1|1||{rnd.choice(ICD10)[0]}^{rnd.choice(ICD10)[1]}^I10||{ts}|A",
    ]
    return "\r".join(segs) + "\r"


def write_samples(path, kind, count=500, seed=18):
    """Writes `count` samples of `kind` ("fhir" or "hl7"), one per line."""
    rnd = random.Random(seed)
    make = fhir_claim if kind == "fhir" else hl7_adt
    with open(path, "w", newline="") as f:
        for n in range(count):
            f.write(make(rnd, n) + "\n")
    return path
