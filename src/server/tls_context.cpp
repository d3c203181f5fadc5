#include "server/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <sys/stat.h>

#include <asio/ssl/context.hpp>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "config/broker_config.h"

namespace carelog::server {
namespace {

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

Result<std::string> read_file(const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(std::string(key) + ": cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr mem_bio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::vector<X509*> read_certs(const std::string& pem) {
  std::vector<X509*> out;
  BioPtr bio = mem_bio(pem);
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.push_back(c);
  ERR_clear_error();  // the loop ends with a "no start line" error
  return out;
}

void free_certs(std::vector<X509*>& certs) {
  for (X509* c : certs) X509_free(c);
  certs.clear();
}

// Installs leaf + chain + key on the context (takes no ownership).
Status use_identity(SSL_CTX* ctx, X509* leaf, const std::vector<X509*>& chain, EVP_PKEY* key,
                    const char* what) {
  if (SSL_CTX_use_certificate(ctx, leaf) != 1) return make_error(std::string(what) + ": " + openssl_error());
  for (X509* c : chain)
    if (SSL_CTX_add1_chain_cert(ctx, c) != 1) return make_error(std::string(what) + ": " + openssl_error());
  if (SSL_CTX_use_PrivateKey(ctx, key) != 1) return make_error(std::string(what) + ": " + openssl_error());
  if (SSL_CTX_check_private_key(ctx) != 1)
    return make_error(std::string(what) + ": private key does not match the certificate");
  return Status::OK();
}

Status load_pem_identity(SSL_CTX* ctx, const std::string& certs_pem, const std::string& key_pem,
                         const std::string& key_password, const char* what) {
  std::vector<X509*> certs = read_certs(certs_pem);
  if (certs.empty()) return make_error(std::string(what) + ": no PEM certificate found");
  BioPtr bio = mem_bio(key_pem);
  // A null callback with a non-null argument makes OpenSSL use the argument
  // as the pass phrase of an encrypted key.
  EVP_PKEY* key =
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(key_password.c_str()));
  if (!key) {
    free_certs(certs);
    ERR_clear_error();
    return make_error(std::string(what) +
                      ": cannot read the private key (missing, or encrypted and ssl.key.password is wrong)");
  }
  std::vector<X509*> chain(certs.begin() + 1, certs.end());
  Status st = use_identity(ctx, certs.front(), chain, key, what);
  EVP_PKEY_free(key);
  free_certs(certs);
  return st;
}

Status load_pkcs12_identity(SSL_CTX* ctx, const std::string& data, const std::string& password) {
  BioPtr bio = mem_bio(data);
  PKCS12* p12 = d2i_PKCS12_bio(bio.get(), nullptr);
  if (!p12) return make_error("ssl.keystore.location: not a PKCS12 file: " + openssl_error());
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  int ok = PKCS12_parse(p12, password.c_str(), &key, &cert, &ca);
  PKCS12_free(p12);
  if (ok != 1 || !key || !cert) {
    EVP_PKEY_free(key);
    X509_free(cert);
    sk_X509_pop_free(ca, X509_free);
    ERR_clear_error();
    return make_error(
        "ssl.keystore.location: cannot open the PKCS12 keystore (wrong ssl.keystore.password?)");
  }
  std::vector<X509*> chain;
  for (int i = 0; ca && i < sk_X509_num(ca); ++i) chain.push_back(sk_X509_value(ca, i));
  Status st = use_identity(ctx, cert, chain, key, "ssl.keystore.location");
  EVP_PKEY_free(key);
  X509_free(cert);
  sk_X509_pop_free(ca, X509_free);
  return st;
}

Status load_truststore(SSL_CTX* ctx, const std::string& pem, const char* what) {
  std::vector<X509*> certs = read_certs(pem);
  if (certs.empty()) return make_error(std::string(what) + ": no PEM certificate found");
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  Status st;
  for (X509* c : certs) {
    // Also announce the CA in the CertificateRequest so clients pick the
    // matching certificate.
    if (X509_STORE_add_cert(store, c) != 1 || SSL_CTX_add_client_CA(ctx, c) != 1) {
      st = make_error(std::string(what) + ": " + openssl_error());
      break;
    }
  }
  free_certs(certs);
  return st;
}

Status set_protocols(SSL_CTX* ctx, const std::vector<std::string>& protocols) {
  int lo = 0, hi = 0;
  for (const auto& p : protocols) {
    int v = p == "TLSv1.2" ? TLS1_2_VERSION : p == "TLSv1.3" ? TLS1_3_VERSION : 0;
    if (v == 0)
      return make_error("ssl.enabled.protocols: unsupported protocol '" + p + "' (TLSv1.2, TLSv1.3)");
    if (lo == 0 || v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo == 0) return make_error("ssl.enabled.protocols: no protocol enabled");
  SSL_CTX_set_min_proto_version(ctx, lo);
  SSL_CTX_set_max_proto_version(ctx, hi);
  return Status::OK();
}

// Kafka lists suites by their IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256);
// OpenSSL names (ECDHE-RSA-AES128-GCM-SHA256) are accepted too. TLS 1.3
// suites and TLS 1.2 ciphers are configured separately in OpenSSL; a group
// left empty keeps OpenSSL's defaults for that version.
Status set_ciphers(SSL_CTX* ctx, const std::vector<std::string>& suites) {
  if (suites.empty()) return Status::OK();
  std::string v13, v12;
  for (const auto& s : suites) {
    bool is13 = s.rfind("TLS_AES_", 0) == 0 || s.rfind("TLS_CHACHA20_", 0) == 0;
    if (is13) {
      v13 += (v13.empty() ? "" : ":") + s;
      continue;
    }
    std::string name = s;
    if (s.rfind("TLS_", 0) == 0) {
      const char* ossl = OPENSSL_cipher_name(s.c_str());
      if (!ossl || std::string(ossl) == "(NONE)")
        return make_error("ssl.cipher.suites: unknown cipher suite '" + s + "'");
      name = ossl;
    }
    v12 += (v12.empty() ? "" : ":") + name;
  }
  if (!v13.empty() && SSL_CTX_set_ciphersuites(ctx, v13.c_str()) != 1)
    return make_error("ssl.cipher.suites: rejected TLS 1.3 suites '" + v13 + "': " + openssl_error());
  if (!v12.empty() && SSL_CTX_set_cipher_list(ctx, v12.c_str()) != 1)
    return make_error("ssl.cipher.suites: rejected ciphers '" + v12 + "': " + openssl_error());
  return Status::OK();
}

std::string stamp(const std::string& path) {
  if (path.empty()) return {};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return path + ":missing;";
  return path + ":" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_size) + ";";
}

}  // namespace

TlsSettings tls_settings_from_config(const config::BrokerConfig& config) {
  auto get = [&](const char* key) -> std::string {
    auto it = config.raw.find(key);
    return it == config.raw.end() ? std::string() : it->second;
  };
  TlsSettings s;
  s.keystore_type = get("ssl.keystore.type");
  s.keystore_location = get("ssl.keystore.location");
  s.keystore_password = get("ssl.keystore.password");
  s.key_password = get("ssl.key.password");
  s.keystore_certificate_chain = get("ssl.keystore.certificate.chain");
  s.keystore_key = get("ssl.keystore.key");
  s.truststore_location = get("ssl.truststore.location");
  s.truststore_certificates = get("ssl.truststore.certificates");
  std::string auth = get("ssl.client.auth");
  s.client_auth = auth == "required"    ? ClientAuth::kRequired
                  : auth == "requested" ? ClientAuth::kRequested
                                        : ClientAuth::kNone;
  s.enabled_protocols = config::split_list(get("ssl.enabled.protocols"));
  s.cipher_suites = config::split_list(get("ssl.cipher.suites"));
  std::string interval = get("ssl.reload.check.interval.ms");
  s.reload_check_interval_ms = interval.empty() ? 5000 : config::parse_number(interval);
  return s;
}

Result<std::shared_ptr<asio::ssl::context>> build_tls_context(const TlsSettings& s) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native,
                      SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
  CARELOG_RETURN_IF_ERROR(set_protocols(native, s.enabled_protocols));
  CARELOG_RETURN_IF_ERROR(set_ciphers(native, s.cipher_suites));

  if (!s.keystore_location.empty()) {
    auto data = read_file(s.keystore_location, "ssl.keystore.location");
    if (!data.ok()) return data.take_error();
    if (s.keystore_type == "PKCS12") {
      CARELOG_RETURN_IF_ERROR(load_pkcs12_identity(native, *data, s.keystore_password));
    } else {
      // One PEM file holding the certificate chain and the private key.
      CARELOG_RETURN_IF_ERROR(
          load_pem_identity(native, *data, *data, s.key_password, "ssl.keystore.location"));
    }
  } else if (!s.keystore_certificate_chain.empty() && !s.keystore_key.empty()) {
    CARELOG_RETURN_IF_ERROR(load_pem_identity(native, s.keystore_certificate_chain, s.keystore_key,
                                              s.key_password,
                                              "ssl.keystore.certificate.chain/ssl.keystore.key"));
  } else {
    return make_error(
        "TLS listener needs a server certificate: set ssl.keystore.location (PEM with chain and key, or "
        "PKCS12) or ssl.keystore.certificate.chain + ssl.keystore.key");
  }

  bool has_trust = false;
  if (!s.truststore_location.empty()) {
    auto data = read_file(s.truststore_location, "ssl.truststore.location");
    if (!data.ok()) return data.take_error();
    CARELOG_RETURN_IF_ERROR(load_truststore(native, *data, "ssl.truststore.location"));
    has_trust = true;
  } else if (!s.truststore_certificates.empty()) {
    CARELOG_RETURN_IF_ERROR(
        load_truststore(native, s.truststore_certificates, "ssl.truststore.certificates"));
    has_trust = true;
  }
  if (s.client_auth != ClientAuth::kNone && !has_trust)
    return make_error(
        "ssl.client.auth=" + std::string(s.client_auth == ClientAuth::kRequired ? "required" : "requested") +
        " needs ssl.truststore.location (PEM CA bundle) to verify client certificates");
  int mode = SSL_VERIFY_NONE;
  if (s.client_auth == ClientAuth::kRequested) mode = SSL_VERIFY_PEER;
  if (s.client_auth == ClientAuth::kRequired) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(native, mode, nullptr);
  // Resumed sessions skip client certificate checks against a reloaded
  // truststore; full handshakes are cheap enough for Kafka's long-lived
  // connections.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);
  return ctx;
}

Result<std::unique_ptr<TlsContextProvider>> TlsContextProvider::create(TlsSettings settings) {
  std::unique_ptr<TlsContextProvider> p(new TlsContextProvider(std::move(settings)));
  p->stamps_ = p->file_stamps();
  auto ctx = build_tls_context(p->settings_);
  if (!ctx.ok()) return ctx.take_error();
  p->current_ = std::move(*ctx);
  return p;
}

std::shared_ptr<asio::ssl::context> TlsContextProvider::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::string TlsContextProvider::file_stamps() const {
  return stamp(settings_.keystore_location) + stamp(settings_.truststore_location);
}

bool TlsContextProvider::check_reload() {
  std::string now = file_stamps();
  {
    std::lock_guard lock(mu_);
    if (now == stamps_) return false;
    stamps_ = now;
  }
  auto ctx = build_tls_context(settings_);
  if (!ctx.ok()) {
    log::error("TLS certificate reload failed, keeping the previous certificates: {}", ctx.error().message);
    return false;
  }
  std::lock_guard lock(mu_);
  current_ = std::move(*ctx);
  log::info("TLS keystore/truststore reloaded; new connections use the new certificates");
  return true;
}

}  // namespace carelog::server
