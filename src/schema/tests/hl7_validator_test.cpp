#include "schema/hl7_validator.h"

#include <gtest/gtest.h>

namespace carelog::schema {
namespace {

const std::string kA01 =
    "MSH|^~\\&|ADT1|GOOD HEALTH HOSPITAL|GHH LAB, INC.|GOOD HEALTH "
    "HOSPITAL|198808181126|SECURITY|ADT^A01^ADT_A01|"
    "MSG00001|P|2.5.1\r"
    "EVN|A01|200708181123\r"
    "PID|1||PATID1234^^^GOOD HEALTH HOSPITAL^MR~123456789^^^USSSA^SS||EVERYMAN^ADAM^A^III||19610615|M||C|"
    "2222 HOME STREET^^GREENSBORO^NC^27401-1020|GL|(555) "
    "555-2004|(555)555-2004||S||PATID12345001^2^M10^ADT1^AN^A|"
    "444333333|987654^NC\r"
    "NK1|1|NUCLEAR^NELDA^W|SPO^SPOUSE||||NK^NEXT OF KIN\r"
    "PV1|1|I|2000^2012^01||||004777^ATTEND^AARON^A|||SUR||||ADM|A0|\r";

const std::string kOru =
    "MSH|^~\\&|LAB|HOSP|EHR|HOSP|20240501103000+0200||ORU^R01|42|P|2.3\r"
    "PID|||555-44-4444||DOE^JOHN||19700101|M\r"
    "OBR|1|845439^GHH OE|1045813^GHH LAB|15545^GLUCOSE|||200202150730\r"
    "OBX|1|NM|1554-5^GLUCOSE^LN||182|mg/dl|70-105|H|||F\r"
    "OBX|2|ST|TEXT^NOTE||Patient \\T\\ family informed||||||F\r";

std::optional<std::string> check(const std::string& m) { return Hl7Validator().validate_message(m); }

std::string replaced(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  s.replace(at, from.size(), to);
  return s;
}

TEST(Hl7Validator, AcceptsWellFormedMessages) {
  EXPECT_EQ(check(kA01), std::nullopt);
  EXPECT_EQ(check(kOru), std::nullopt);
  // \n and \r\n segment ends, as files and some engines send them.
  std::string lf = kOru;
  for (char& c : lf)
    if (c == '\r') c = '\n';
  EXPECT_EQ(check(lf), std::nullopt);
}

TEST(Hl7Validator, StripsMllpFraming) {
  EXPECT_EQ(check("\x0b" + kA01 + "\x1c\r"), std::nullopt);
  EXPECT_EQ(check("\x0b" + kA01), "MLLP: start block without end block (0x1C 0x0D)");
}

TEST(Hl7Validator, ReportsBadDataTypes) {
  EXPECT_EQ(check(replaced(kA01, "19610615", "19611315")), "PID-7: invalid TS '19611315'");
  EXPECT_EQ(check(replaced(kA01, "|200708181123", "|2007-08-18")), "EVN-2: invalid TS '2007-08-18'");
  EXPECT_EQ(check(replaced(kA01, "PID|1|", "PID|x|")), "PID-1: invalid SI 'x'");
  EXPECT_EQ(check(replaced(kOru, "||182|", "||1.8.2|")), std::nullopt);  // OBX-5 is "varies"
  EXPECT_EQ(check(replaced(kOru, "OBX|1|", "OBX|one|")), "OBX-1: invalid SI 'one'");
}

TEST(Hl7Validator, ReportsMissingRequiredFieldsAndSegments) {
  EXPECT_EQ(check(replaced(kA01, "EVERYMAN^ADAM^A^III", "")), "PID-5: required field missing");
  EXPECT_EQ(check(replaced(kA01, "EVN|A01|200708181123\r", "")),
            "EVN: required segment missing (ADT_A01, found PID)");
  EXPECT_EQ(check(replaced(kOru, "|1554-5^GLUCOSE^LN|", "||")), "OBX-3: required field missing");
  EXPECT_EQ(check(replaced(kOru, "|H|||F\r", "|H|||\r")), "OBX-11: required field missing");
}

TEST(Hl7Validator, ReportsStructureErrors) {
  EXPECT_EQ(check(kA01 + "PV1|2|O\r"),
            "PV1: unexpected segment (segment 6 of 6, not allowed here by ADT_A01)");
  EXPECT_EQ(check(kA01 + "ZPI|custom|data\r"), std::nullopt);  // Z-segments are allowed
  EXPECT_EQ(check(kA01 + "XYZ|1\r"), "XYZ: unknown segment");
  EXPECT_EQ(check(replaced(kA01, "ADT^A01^ADT_A01", "ADT^A99")),
            "MSH-9: message type 'ADT^A99' not supported");
  EXPECT_EQ(check(replaced(kA01, "|2.5.1\r", "|2.7\r")),
            "MSH-12: version '2.7' not supported (2.3 to 2.5.1)");
  EXPECT_EQ(check("PID|1\r"), "MSH: message must start with an MSH segment");
}

TEST(Hl7Validator, EncodingCharactersEscapesAndRepetitions) {
  // Other delimiters are honoured.
  const std::string other =
      "MSH#$*\\@#LAB#HOSP#EHR#HOSP#20240501103000##ORU$R01#42#P#2.3\r"
      "PID###555-44-4444##DOE$JOHN##19700101#M\r"
      "OBR#1#845439$GHH OE#1045813$GHH LAB#15545$GLUCOSE\r"
      "OBX#1#NM#1554-5$GLUCOSE$LN##182*190#mg/dl#70-105#H###F\r";
  EXPECT_EQ(check(other), std::nullopt);
  EXPECT_EQ(check(replaced(kA01, "MSH|^~\\&|", "MSH|^^\\&|")),
            "MSH-2: encoding characters must be distinct and not alphanumeric");
  EXPECT_EQ(check(replaced(kOru, "\\T\\", "\\Q\\")), "OBX-5: invalid escape sequence 'Q'");
  EXPECT_EQ(check(replaced(kOru, "\\T\\", "\\T")), "OBX-5: unterminated escape sequence");
  EXPECT_EQ(check(replaced(kOru, "Patient \\T\\", "\\X0D0A\\ \\.br\\")), std::nullopt);
  EXPECT_EQ(check(replaced(kA01, "|19610615|", "|19610615~19610616|")), "PID-7: field does not repeat");
  EXPECT_EQ(check(kA01.substr(0, kA01.size() - 1) + std::string(60, '|') + "X\r"),
            "PV1-76: field not defined for PV1 (it has 52 fields)");
}

}  // namespace
}  // namespace carelog::schema
