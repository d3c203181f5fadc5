// JSON Schema compatibility: does every instance the writer schema accepts
// also pass the reader schema? Decided structurally and conservatively (a
// "maybe" is a refusal), keyword by keyword, as Confluent's registry does
// for JSON: types may widen, not narrow; enums may grow; numeric and length
// bounds may loosen; a reader may not require what the writer left
// optional; content models: a property added by the reader must be one the
// writer could not have sent (closed writer) or accept anything; a closed
// reader must know every property the writer allows.
#include <fmt/core.h>

#include <set>

#include "schema/json_schema.h"

namespace carelog::schema::jsonschema {
namespace {

const Json kTrue = true;

std::set<std::string> types_of(const Json& s) {
  static const std::set<std::string> kAll = {"null",   "boolean", "object", "array",
                                             "number", "string",  "integer"};
  auto it = s.find("type");
  if (it == s.end()) return kAll;
  std::set<std::string> out;
  if (it->is_string()) {
    out.insert(it->get<std::string>());
  } else {
    for (const auto& t : *it) out.insert(t.get<std::string>());
  }
  if (out.count("number")) out.insert("integer");
  return out;
}

bool accepts_anything(const Json& s) {
  if (s.is_boolean()) return s.get<bool>();
  if (!s.is_object()) return true;
  for (const auto& [k, v] : s.items()) {
    static const std::set<std::string, std::less<>> kAnnotations = {
        "$schema",  "$id",    "id",    "title",       "description", "default",   "examples",
        "$comment", "format", "$defs", "definitions", "readOnly",    "writeOnly", "deprecated"};
    if (!kAnnotations.count(k)) return false;
  }
  return true;
}

const Json* member(const Json& s, const char* key) {
  if (!s.is_object()) return nullptr;
  auto it = s.find(key);
  return it == s.end() ? nullptr : &*it;
}

bool closed(const Json& s) {
  const Json* ap = member(s, "additionalProperties");
  return ap && ap->is_boolean() && !ap->get<bool>() && !member(s, "patternProperties");
}

std::set<std::string> required_of(const Json& s) {
  std::set<std::string> out;
  if (const Json* r = member(s, "required"); r && r->is_array())
    for (const auto& n : *r) out.insert(n.get<std::string>());
  return out;
}

class Checker {
 public:
  Checker(const Schema& reader, const Schema& writer) : r_(reader), w_(writer) {}

  void check(const Json& r_in, std::string rdoc, const Json& w_in, std::string wdoc, const std::string& path,
             int depth) {
    if (depth > 64) {
      // Recursive schemas: what was compared so far is what can be.
      return;
    }
    const Json* r = &r_in;
    const Json* w = &w_in;
    // Follow $ref on both sides (a schema that is only a $ref, or a $ref
    // next to other keywords: the target is checked as if inlined).
    for (int i = 0; i < 32 && member(*r, "$ref") && r->size() == 1; ++i) {
      r = r_.resolve(member(*r, "$ref")->get<std::string>(), &rdoc);
      if (!r) return;
    }
    for (int i = 0; i < 32 && member(*w, "$ref") && w->size() == 1; ++i) {
      w = w_.resolve(member(*w, "$ref")->get<std::string>(), &wdoc);
      if (!w) return;
    }
    if (accepts_anything(*r)) return;
    if (w->is_boolean() && !w->get<bool>()) return;
    if (r->is_boolean()) {  // false
      problem(path, "the reader accepts nothing here (false)");
      return;
    }
    if (accepts_anything(*w)) {
      problem(path, "the writer accepts any value here, the reader does not");
      return;
    }
    // A reader $ref beside other keywords: the target applies as well. (A
    // writer $ref beside other keywords is judged by those keywords only,
    // which is stricter, never looser.)
    if (const Json* ref = member(*r, "$ref")) {
      std::string d = rdoc;
      if (const Json* t = r_.resolve(ref->get<std::string>(), &d)) check(*t, d, *w, wdoc, path, depth + 1);
    }
    // Writer alternatives: each must be acceptable.
    for (const char* k : {"anyOf", "oneOf"}) {
      if (const Json* alts = member(*w, k)) {
        for (size_t i = 0; i < alts->size(); ++i)
          check(*r, rdoc, (*alts)[i], wdoc, fmt::format("{}/{}/{}", path, k, i), depth + 1);
        return;
      }
    }
    // Reader alternatives: some branch must take the whole writer.
    for (const char* k : {"anyOf", "oneOf"}) {
      if (const Json* alts = member(*r, k)) {
        bool some = false;
        for (const auto& alt : *alts) {
          Checker trial(r_, w_);
          trial.check(alt, rdoc, *w, wdoc, path, depth + 1);
          if (trial.problems_.empty()) {
            some = true;
            break;
          }
        }
        if (!some) problem(path, fmt::format("no branch of the reader's {} accepts the writer's schema", k));
      }
    }
    if (const Json* all = member(*r, "allOf"))
      for (size_t i = 0; i < all->size(); ++i)
        check((*all)[i], rdoc, *w, wdoc, fmt::format("{}/allOf/{}", path, i), depth + 1);
    if (const Json* n = member(*r, "not")) {
      const Json* wn = member(*w, "not");
      if (!wn || *wn != *n) problem(path, "the reader's 'not' is not the writer's");
    }
    types(*r, *w, path);
    values(*r, *w, path);
    bounds(*r, *w, path);
    const auto rt = types_of(*r), wt = types_of(*w);
    if (rt.count("object") && wt.count("object")) object(*r, rdoc, *w, wdoc, path, depth);
    if (rt.count("array") && wt.count("array")) array(*r, rdoc, *w, wdoc, path, depth);
  }

  std::vector<std::string> problems_;

 private:
  void problem(const std::string& path, const std::string& what) {
    problems_.push_back(fmt::format("{}: {}", path.empty() ? "/" : path, what));
  }

  void types(const Json& r, const Json& w, const std::string& path) {
    const auto rt = types_of(r);
    for (const auto& t : types_of(w)) {
      if (rt.count(t)) continue;
      if (t == "integer" && rt.count("number")) continue;
      problem(path, fmt::format("type '{}' of the writer is not accepted by the reader (TYPE_NARROWED)", t));
    }
  }

  void values(const Json& r, const Json& w, const std::string& path) {
    const Json* re = member(r, "enum");
    const Json* rc = member(r, "const");
    if (!re && !rc) return;
    std::vector<Json> wvals;
    if (const Json* wc = member(w, "const")) {
      wvals.push_back(*wc);
    } else if (const Json* we = member(w, "enum")) {
      for (const auto& v : *we) wvals.push_back(v);
    } else {
      problem(path, "the reader restricts values (enum/const), the writer does not");
      return;
    }
    for (const auto& v : wvals) {
      bool ok = true;
      if (rc && *rc != v) ok = false;
      if (re) {
        bool found = false;
        for (const auto& x : *re) found = found || x == v;
        ok = ok && found;
      }
      if (!ok)
        problem(path,
                fmt::format("value {} of the writer is not accepted by the reader (ENUM_ARRAY_NARROWED)",
                            v.dump()));
    }
  }

  // Lower bounds: the writer's must be at least the reader's; upper bounds
  // at most. A bound the reader has and the writer lacks is a narrowing.
  void bounds(const Json& r, const Json& w, const std::string& path) {
    auto cmp = [&](const char* key, bool upper) {
      const Json* rb = member(r, key);
      if (!rb || !rb->is_number()) return;
      const Json* wb = member(w, key);
      if (!wb || !wb->is_number()) {
        problem(path, fmt::format("the reader adds '{}' {} (the writer has none)", key, rb->dump()));
        return;
      }
      const double rv = rb->get<double>(), wv = wb->get<double>();
      if (upper ? wv > rv : wv < rv)
        problem(path, fmt::format("'{}' narrowed from {} to {}", key, wb->dump(), rb->dump()));
    };
    for (const char* k : {"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
      cmp(k, false);
    for (const char* k : {"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})
      cmp(k, true);
    if (const Json* rm = member(r, "multipleOf")) {
      const Json* wm = member(w, "multipleOf");
      const double q = wm ? wm->get<double>() / rm->get<double>() : 0.5;
      if (!wm || std::abs(q - std::round(q)) > 1e-9)
        problem(path, fmt::format("the reader requires a multiple of {}", rm->dump()));
    }
    if (const Json* rp = member(r, "pattern")) {
      const Json* wp = member(w, "pattern");
      if (!wp || *wp != *rp)
        problem(path, fmt::format("the reader adds or changes 'pattern' {}", rp->dump()));
    }
    if (const Json* ru = member(r, "uniqueItems"); ru && ru->get<bool>()) {
      const Json* wu = member(w, "uniqueItems");
      if (!wu || !wu->get<bool>()) problem(path, "the reader requires uniqueItems, the writer does not");
    }
  }

  void object(const Json& r, const std::string& rdoc, const Json& w, const std::string& wdoc,
              const std::string& path, int depth) {
    const auto wreq = required_of(w);
    for (const auto& name : required_of(r))
      if (!wreq.count(name))
        problem(path, fmt::format("property '{}' is required by the reader but not by the writer "
                                  "(REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL)",
                                  name));
    const Json* rprops = member(r, "properties");
    const Json* wprops = member(w, "properties");
    const Json* rap = member(r, "additionalProperties");
    const Json* wap = member(w, "additionalProperties");
    const bool wclosed = closed(w);
    if (rprops) {
      for (const auto& [name, rs] : rprops->items()) {
        const std::string here = fmt::format("{}/properties/{}", path, name);
        if (wprops && wprops->contains(name)) {
          check(rs, rdoc, (*wprops)[name], wdoc, here, depth + 1);
        } else if (wclosed) {
          continue;  // the writer never sends it
        } else if (wap && !wap->is_boolean()) {
          check(rs, rdoc, *wap, wdoc, here, depth + 1);
        } else if (!accepts_anything(rs)) {
          problem(here,
                  "property added to an open content model: the writer may send it with any value "
                  "(PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL)");
        }
      }
    }
    if (wprops) {
      for (const auto& [name, ws] : wprops->items()) {
        if (rprops && rprops->contains(name)) continue;
        const std::string here = fmt::format("{}/properties/{}", path, name);
        if (closed(r)) {
          problem(
              here,
              "property removed from a closed content model (PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL)");
        } else if (rap && !rap->is_boolean()) {
          check(*rap, rdoc, ws, wdoc, here, depth + 1);
        }
      }
    }
    if (rap && !accepts_anything(*rap) && !wclosed) {
      if (!wap || accepts_anything(*wap)) {
        problem(path,
                "the reader restricts additional properties, the writer's content model is open "
                "(ADDITIONAL_PROPERTIES_NARROWED)");
      } else if (!wap->is_boolean()) {
        check(*rap, rdoc, *wap, wdoc, path + "/additionalProperties", depth + 1);
      }
    }
    const Json* rpp = member(r, "patternProperties");
    const Json* wpp = member(w, "patternProperties");
    if (rpp && (!wpp || *rpp != *wpp)) problem(path, "the reader adds or changes patternProperties");
  }

  void array(const Json& r, const std::string& rdoc, const Json& w, const std::string& wdoc,
             const std::string& path, int depth) {
    const Json* ri = member(r, "items");
    const Json* wi = member(w, "items");
    if (ri && !ri->is_array()) {
      if (wi && !wi->is_array()) {
        check(*ri, rdoc, *wi, wdoc, path + "/items", depth + 1);
      } else if (wi) {
        for (size_t i = 0; i < wi->size(); ++i)
          check(*ri, rdoc, (*wi)[i], wdoc, fmt::format("{}/items/{}", path, i), depth + 1);
      } else {
        check(*ri, rdoc, kTrue, wdoc, path + "/items", depth + 1);
      }
    } else if (ri) {
      for (size_t i = 0; i < ri->size(); ++i) {
        const Json* ws = wi && wi->is_array() ? (i < wi->size() ? &(*wi)[i] : nullptr) : wi;
        check((*ri)[i], rdoc, ws ? *ws : kTrue, wdoc, fmt::format("{}/items/{}", path, i), depth + 1);
      }
    }
  }

  const Schema& r_;
  const Schema& w_;
};

}  // namespace

std::vector<std::string> check_compatible(const Schema& reader, const Schema& writer) {
  Checker c(reader, writer);
  c.check(reader.root(), "", writer.root(), "", "", 0);
  return c.problems_;
}

}  // namespace carelog::schema::jsonschema
