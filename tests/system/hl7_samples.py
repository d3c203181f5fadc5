"""Synthetic, well-formed HL7 v2 messages (one per supported message type)
and malformed variants, for test_validation.py. Segments end with \\r."""

MSH = "MSH|^~\\&|SENDAPP|SENDFAC|RECVAPP|RECVFAC|20240501103000||{type}|MSG{n:05d}|P|{version}"
PID = "PID|1||PAT123^^^HOSP^MR||DOE^JANE^Q||19700101|F|||1 MAIN ST^^SPRINGFIELD^IL^62701||(555)555-0100"
PV1 = "PV1|1|I|WARD1^101^A||||1234^WELBY^MARCUS|||MED||||ADM|||||||||||||||||||||||||20240501100000"
EVN = "EVN|{event}|20240501103000"


def _msg(type_, segments, version="2.5.1", n=1):
    return "\r".join([MSH.format(type=type_, n=n, version=version)] + segments) + "\r"


def adt(event, version="2.5.1", structure=None):
    t = f"ADT^{event}" + (f"^{structure}" if structure else "")
    return _msg(t, [EVN.format(event=event), PID, PV1], version)


WELL_FORMED = {
    "ADT_A01": adt("A01", structure="ADT_A01"),
    "ADT_A02": adt("A02", version="2.4"),
    "ADT_A03": adt("A03", version="2.3"),
    "ADT_A04": adt("A04", structure="ADT_A01"),
    "ADT_A05": adt("A05", version="2.5"),
    "ADT_A06": adt("A06", version="2.3.1"),
    "ADT_A07": adt("A07", structure="ADT_A06"),
    "ADT_A08": adt("A08", structure="ADT_A01"),
    "ADT_A11": adt("A11", structure="ADT_A09"),
    "ADT_A13": adt("A13", structure="ADT_A01"),
    "ORU_R01": _msg("ORU^R01^ORU_R01", [
        PID,
        "OBR|1|ORD448811^EHR|RES6642^LAB|2345-7^GLUCOSE^LN|||20240501080000",
        "OBX|1|NM|2345-7^GLUCOSE^LN||182|mg/dL^mg/dL^UCUM|70-105|H|||F|||20240501083000",
        "OBX|2|ST|8251-1^NOTE^LN||Patient fasting \\T\\ hydrated||||||F",
    ]),
    "ORM_O01": _msg("ORM^O01^ORM_O01", [
        PID, PV1,
        "ORC|NW|ORD448812^EHR||||||||||1234^WELBY^MARCUS",
    ], version="2.4"),
    "OML_O21": _msg("OML^O21^OML_O21", [
        PID,
        "ORC|NW|ORD448813^EHR",
        "OBR|1|ORD448813^EHR||57021-8^CBC W DIFF^LN|||20240501091500",
    ]),
    "SIU_S12": _msg("SIU^S12^SIU_S12", [
        "SCH|APT1001^SCHED|||||CHECKUP^Routine checkup^LOCAL|||30|MIN|^^30^20240510090000^20240510093000"
        "|||||1234^WELBY^MARCUS||||1234^WELBY^MARCUS|||||Booked",
        PID,
        "RGS|1",
        "AIS|1||CHECKUP^Routine checkup^LOCAL|20240510090000",
    ]),
    "MDM_T02": _msg("MDM^T02^MDM_T02", [
        "EVN|T02|20240501103000", PID, PV1,
        "TXA|1|DS|TX|20240501100000|1234^WELBY^MARCUS|||||||DOC7788^EHR|||||AU",
        "OBX|1|TX|DISCHARGE^Discharge summary^LOCAL||Discharged in good condition.||||||F",
    ]),
    "DFT_P03": _msg("DFT^P03", [
        "EVN|P03|20240501103000", PID, PV1,
        "FT1|1|||20240501100000^20240501110000|20240501110000|CG|99213^Office visit^CPT||1",
    ], version="2.3"),
    "VXU_V04": _msg("VXU^V04^VXU_V04", [
        PID,
        "ORC|RE||IZ-7788^EHR",
        "RXA|0|1|20240415100000|20240415100000|08^HepB pediatric^CVX|0.5|mL^mL^UCUM||00^New record^NIP001",
    ]),
}


def mutate(msg, old, new):
    assert old in msg, old
    return msg.replace(old, new, 1)


# (name, message, expected error prefix): Carelog must name the field.
MALFORMED = [
    ("bad_birth_date", mutate(WELL_FORMED["ADT_A01"], "|19700101|", "|19701301|"), "PID-7: invalid TS"),
    ("bad_event_time", mutate(WELL_FORMED["ADT_A08"], "EVN|A08|20240501103000", "EVN|A08|2024-05-01"),
     "EVN-2: invalid TS"),
    ("missing_patient_name", mutate(WELL_FORMED["ADT_A04"], "|DOE^JANE^Q|", "||"), "PID-5: required field missing"),
    ("missing_pv1", mutate(WELL_FORMED["ADT_A02"], "\r" + PV1, ""), "PV1: required segment missing"),
    ("bad_set_id", mutate(WELL_FORMED["ORU_R01"], "OBX|1|NM", "OBX|A|NM"), "OBX-1: invalid SI"),
    ("missing_result_status", mutate(WELL_FORMED["ORU_R01"], "|70-105|H|||F|", "|70-105|H||||"),
     "OBX-11: required field missing"),
    ("unknown_version", mutate(WELL_FORMED["ADT_A05"], "|2.5\r", "|9.9\r"), "MSH-12: version '9.9' not supported"),
    ("bad_quantity", mutate(WELL_FORMED["VXU_V04"], "|0.5|mL", "|half|mL"), "RXA-6: invalid NM"),
    ("bad_encoding_chars", mutate(WELL_FORMED["SIU_S12"], "MSH|^~\\&|", "MSH|^^\\&|"), "MSH-2:"),
]
