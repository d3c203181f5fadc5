// carelog-validate-bench: single-thread throughput of the FHIR R4 and HL7 v2
// validators over files (or built-in samples), in MB of payload per second.
//   carelog-validate-bench fhir FILE... [--seconds N]
//   carelog-validate-bench hl7 FILE... [--seconds N]
// Every input must validate; the figure is per core (one thread).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "schema/fhir_validator.h"
#include "schema/hl7_validator.h"

using carelog::schema::FhirValidator;
using carelog::schema::Hl7Validator;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: carelog-validate-bench fhir|hl7 FILE... [--seconds N]\n";
    return 2;
  }
  std::string kind = argv[1];
  double seconds = 3;
  std::vector<std::string> docs;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
      continue;
    }
    std::ifstream in(a, std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << a << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string doc = ss.str();
    if (kind == "hl7") {
      for (char& c : doc)
        if (c == '\n') c = '\r';
    }
    docs.push_back(std::move(doc));
  }
  FhirValidator fhir;
  Hl7Validator hl7;
  auto run = [&](const std::string& d) {
    return kind == "fhir" ? fhir.validate_json(d) : hl7.validate_message(d);
  };
  size_t bytes_per_pass = 0;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (auto e = run(docs[i])) {
      std::cerr << argv[i + 2] << ": " << *e << "\n";
      return 1;
    }
    bytes_per_pass += docs[i].size();
  }
  auto start = std::chrono::steady_clock::now();
  size_t total = 0, records = 0;
  double elapsed = 0;
  while (elapsed < seconds) {
    for (const auto& d : docs) {
      if (run(d)) return 1;
      ++records;
    }
    total += bytes_per_pass;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::printf("%s: %zu inputs, %.1f MB/s, %.0f records/s (one thread, %.1f s)\n", kind.c_str(), docs.size(),
              static_cast<double>(total) / 1e6 / elapsed, static_cast<double>(records) / elapsed, elapsed);
  return 0;
}
