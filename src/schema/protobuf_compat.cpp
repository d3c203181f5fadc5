// Protobuf compatibility by wire encoding: fields are matched by number
// (names may change), messages by full name. Types that share a wire
// encoding and read each other's values are interchangeable: the varint
// integers with bool and enums, sint32/sint64, fixed32/sfixed32,
// fixed64/sfixed64, string/bytes; message fields must keep their message
// type (compared recursively under the same rules).
#include <fmt/core.h>
#include <google/protobuf/descriptor.h>

#include <set>

#include "schema/protobuf.h"

namespace carelog::schema::protobuf {
namespace gp = google::protobuf;

namespace {

int encoding_group(const gp::FieldDescriptor& f) {
  switch (f.type()) {
    case gp::FieldDescriptor::TYPE_INT32:
    case gp::FieldDescriptor::TYPE_UINT32:
    case gp::FieldDescriptor::TYPE_INT64:
    case gp::FieldDescriptor::TYPE_UINT64:
    case gp::FieldDescriptor::TYPE_BOOL:
    case gp::FieldDescriptor::TYPE_ENUM:
      return 1;
    case gp::FieldDescriptor::TYPE_SINT32:
    case gp::FieldDescriptor::TYPE_SINT64:
      return 2;
    case gp::FieldDescriptor::TYPE_FIXED32:
    case gp::FieldDescriptor::TYPE_SFIXED32:
      return 3;
    case gp::FieldDescriptor::TYPE_FIXED64:
    case gp::FieldDescriptor::TYPE_SFIXED64:
      return 4;
    case gp::FieldDescriptor::TYPE_STRING:
    case gp::FieldDescriptor::TYPE_BYTES:
      return 5;
    case gp::FieldDescriptor::TYPE_FLOAT:
      return 6;
    case gp::FieldDescriptor::TYPE_DOUBLE:
      return 7;
    case gp::FieldDescriptor::TYPE_MESSAGE:
      return 8;
    case gp::FieldDescriptor::TYPE_GROUP:
      return 9;
  }
  return 0;
}

class Checker {
 public:
  void message(const gp::Descriptor& r, const gp::Descriptor& w) {
    if (!seen_.insert({r.full_name(), w.full_name()}).second) return;
    for (int i = 0; i < w.field_count(); ++i) {
      const gp::FieldDescriptor& wf = *w.field(i);
      const gp::FieldDescriptor* rf = r.FindFieldByNumber(wf.number());
      if (rf == nullptr) continue;  // the reader skips it as unknown
      field(*rf, wf, r.full_name());
    }
    for (int i = 0; i < r.field_count(); ++i) {
      const gp::FieldDescriptor& rf = *r.field(i);
      if (rf.is_required() && w.FindFieldByNumber(rf.number()) == nullptr)
        problem(fmt::format("{}.{}: required field {} is not in the writer (REQUIRED_FIELD_ADDED)",
                            r.full_name(), rf.name(), rf.number()));
    }
  }

  std::vector<std::string> problems;

 private:
  void problem(std::string what) { problems.push_back(std::move(what)); }

  void field(const gp::FieldDescriptor& rf, const gp::FieldDescriptor& wf, const std::string& owner) {
    const std::string at = fmt::format("{}.{} (field {})", owner, rf.name(), rf.number());
    if (encoding_group(rf) != encoding_group(wf)) {
      problem(fmt::format("{}: type changed from {} to {} (FIELD_KIND_CHANGED)", at, wf.type_name(),
                          rf.type_name()));
      return;
    }
    if (rf.is_repeated() != wf.is_repeated())
      problem(fmt::format("{}: changed between repeated and singular (FIELD_LABEL_CHANGED)", at));
    const bool r_oneof = rf.real_containing_oneof() != nullptr;
    const bool w_oneof = wf.real_containing_oneof() != nullptr;
    if (r_oneof != w_oneof)
      problem(fmt::format("{}: moved {} a oneof (FIELD_MOVED_{}_ONEOF)", at, r_oneof ? "into" : "out of",
                          r_oneof ? "INTO" : "OUT_OF"));
    if (rf.type() == gp::FieldDescriptor::TYPE_MESSAGE || rf.type() == gp::FieldDescriptor::TYPE_GROUP) {
      if (rf.message_type()->full_name() != wf.message_type()->full_name())
        problem(fmt::format("{}: message type changed from {} to {} (FIELD_NAMED_TYPE_CHANGED)", at,
                            wf.message_type()->full_name(), rf.message_type()->full_name()));
      else
        message(*rf.message_type(), *wf.message_type());
    }
  }

  std::set<std::pair<std::string, std::string>> seen_;
};

void all_messages(const gp::Descriptor& d, std::vector<const gp::Descriptor*>* out) {
  out->push_back(&d);
  for (int i = 0; i < d.nested_type_count(); ++i) all_messages(*d.nested_type(i), out);
}

}  // namespace

std::vector<std::string> check_compatible(const Schema& reader, const Schema& writer) {
  const gp::FileDescriptor& r = reader.file();
  const gp::FileDescriptor& w = writer.file();
  Checker c;
  if (r.syntax() != w.syntax())
    c.problems.push_back(fmt::format("syntax changed from {} to {} (SYNTAX_CHANGED)",
                                     gp::FileDescriptor::SyntaxName(w.syntax()),
                                     gp::FileDescriptor::SyntaxName(r.syntax())));
  if (r.package() != w.package())
    c.problems.push_back(
        fmt::format("package changed from '{}' to '{}' (PACKAGE_CHANGED)", w.package(), r.package()));
  std::vector<const gp::Descriptor*> written;
  for (int i = 0; i < w.message_type_count(); ++i) all_messages(*w.message_type(i), &written);
  for (const gp::Descriptor* wm : written) {
    const gp::Descriptor* rm = r.pool()->FindMessageTypeByName(wm->full_name());
    if (rm == nullptr || rm->file() != &r) {
      if (r.package() == w.package())
        c.problems.push_back(fmt::format("message {} removed (MESSAGE_REMOVED)", wm->full_name()));
      continue;
    }
    c.message(*rm, *wm);
  }
  return c.problems;
}

}  // namespace carelog::schema::protobuf
