#include "sashimono/net/TlsCert.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sashimono/core/Bytes.h"

namespace sashimono::net {

using core::Error;
using core::Result;
using core::Status;

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using GeneralNames = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, GENERAL_NAMES_free>>;
using GeneralName = std::unique_ptr<GENERAL_NAME, Deleter<GENERAL_NAME, GENERAL_NAME_free>>;

// "what: <OpenSSL's reason>", and clears OpenSSL's error queue.
Error sslError(const std::string& what) {
  const unsigned long e = ERR_peek_last_error();
  std::string m = what;
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    m += std::string(": ") + buf;
  }
  ERR_clear_error();
  return Error(m);
}

bool isIpLiteral(const std::string& s) {
  in_addr a4{};
  in6_addr a6{};
  return ::inet_pton(AF_INET, s.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// Letters, digits and '-' in labels of 1-63, not starting or ending with '-'; "*" as first label.
bool isHostName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;  // 64: the X.509 upper bound of a common name
  std::size_t start = 0;
  bool first = true;
  while (true) {
    const std::size_t dot = s.find('.', start);
    const std::string label = s.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool wildcard = first && label == "*" && dot != std::string::npos;
    if (!wildcard) {
      if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
      for (char c : label) {
        const bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
        if (!ok) return false;
      }
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
    first = false;
  }
}

Status addExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
    return sslError(std::string("certificate extension ") + OBJ_nid2sn(nid) + "=" + value);
  return {};
}

// subjectAltName with the one name, built as a structure (no configuration-string parsing of
// the caller's text).
Status addSubjectAltName(X509* cert, const std::string& name, bool ip) {
  GeneralNames names(sk_GENERAL_NAME_new_null());
  GeneralName gn(GENERAL_NAME_new());
  if (!names || !gn) return sslError("subjectAltName: out of memory");
  if (ip) {
    ASN1_OCTET_STRING* addr = a2i_IPADDRESS(name.c_str());
    if (addr == nullptr) return sslError("subjectAltName: bad IP address " + name);
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, addr);
  } else {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    if (dns == nullptr || ASN1_STRING_set(dns, name.data(), static_cast<int>(name.size())) != 1) {
      ASN1_IA5STRING_free(dns);
      return sslError("subjectAltName: out of memory");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, dns);
  }
  if (sk_GENERAL_NAME_push(names.get(), gn.get()) == 0) return sslError("subjectAltName: out of memory");
  gn.release();  // owned by names
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1)
    return sslError("certificate extension subjectAltName");
  return {};
}

Result<Cert> makeCertificate(EVP_PKEY* key, const std::string& cn, std::chrono::hours validity) {
  Cert cert(X509_new());
  if (!cert) return sslError("X509_new");
  X509* x = cert.get();
  if (X509_set_version(x, X509_VERSION_3) != 1) return sslError("certificate version");

  // 16 random bytes, top bit clear (the serial must be positive) and the next one set (so the
  // encoding is always 16 bytes and never zero).
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return sslError("random serial number");
  serial[0] = static_cast<unsigned char>((serial[0] & 0x7F) | 0x40);
  Bignum bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) == nullptr)
    return sslError("certificate serial number");

  const long hours = static_cast<long>(validity.count());
  if (X509_time_adj_ex(X509_getm_notBefore(x), 0, -3600, nullptr) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(x), static_cast<int>(hours / 24), (hours % 24) * 3600, nullptr) ==
          nullptr)
    return sslError("certificate validity");

  X509_NAME* name = X509_get_subject_name(x);
  if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(x, name) != 1)
    return sslError("certificate subject");
  if (X509_set_pubkey(x, key) != 1) return sslError("certificate public key");

  SASHI_TRY(addExtension(x, NID_basic_constraints, "critical,CA:FALSE"));
  SASHI_TRY(addExtension(x, NID_key_usage, "critical,digitalSignature"));
  SASHI_TRY(addExtension(x, NID_ext_key_usage, "serverAuth"));
  SASHI_TRY(addExtension(x, NID_subject_key_identifier, "hash"));
  SASHI_TRY(addSubjectAltName(x, cn, isIpLiteral(cn)));

  if (X509_sign(x, key, EVP_sha256()) <= 0) return sslError("signing the certificate");
  return cert;
}

// The bytes a memory BIO holds.
std::pair<const char*, std::size_t> bioData(BIO* bio) {
  char* p = nullptr;
  const long n = BIO_get_mem_data(bio, &p);
  return {p, n > 0 ? static_cast<std::size_t>(n) : 0};
}

// A temporary file next to `target` holding `data` with `mode`, written and fsynced. Removed by
// the destructor unless committed.
class TempFile {
 public:
  TempFile() = default;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  Status write(const std::string& target, const char* data, std::size_t size, mode_t mode) {
    std::string tmpl = target + ".tmp-XXXXXX";
    const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);  // mode 0600 from the start
    if (fd < 0) return Error::fromErrno("creating a temporary file for " + target);
    path_ = tmpl;
    Status st = writeAll(fd, data, size, mode);
    if (::close(fd) != 0 && st.ok()) st = Error::fromErrno("closing " + path_);
    return st;
  }

  Status commit(const std::string& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0)
      return Error::fromErrno("renaming " + path_ + " to " + target);
    path_.clear();
    return {};
  }

 private:
  Status writeAll(int fd, const char* data, std::size_t size, mode_t mode) {
    if (::fchmod(fd, mode) != 0) return Error::fromErrno("chmod " + path_);
    while (size > 0) {
      const ssize_t n = ::write(fd, data, size);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Error::fromErrno("writing " + path_);
      }
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return Error::fromErrno("fsync " + path_);
    return {};
  }

  std::string path_;
};

void syncDirectoryOf(const std::string& file) {
  std::string dir = std::filesystem::path(file).parent_path().string();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the files are in place; durability of the rename is best effort
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

Status makeSelfSignedCertificate(const std::string& keyFile, const std::string& certFile,
                                 const std::string& commonName, std::chrono::hours validity) {
  const std::string what = "making a self-signed certificate for '" + commonName + "'";
  if (!isIpLiteral(commonName) && !isHostName(commonName))
    return Error(what + ": not an IP address or a host name (letters, digits, '-', '.'; at most 64)");
  if (validity.count() <= 0) return Error(what + ": validity must be positive");
  if (validity > std::chrono::hours(24L * 36500)) return Error(what + ": validity over 100 years");
  if (keyFile.empty() || certFile.empty() || keyFile == certFile)
    return Error(what + ": the key and the certificate need two different file names");

  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return sslError(what + ": generating a P-256 key");
  auto cert = makeCertificate(key.get(), commonName, validity);
  if (!cert.ok()) return cert.error().context(what);

  Bio keyPem(BIO_new(BIO_s_secmem()));  // wiped when freed
  Bio certPem(BIO_new(BIO_s_mem()));
  if (!keyPem || !certPem) return sslError(what + ": out of memory");
  if (PEM_write_bio_PrivateKey(keyPem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return sslError(what + ": encoding the key");
  if (PEM_write_bio_X509(certPem.get(), cert->get()) != 1)
    return sslError(what + ": encoding the certificate");

  TempFile keyTmp;
  TempFile certTmp;
  auto [keyData, keySize] = bioData(keyPem.get());
  auto [certData, certSize] = bioData(certPem.get());
  if (auto st = keyTmp.write(keyFile, keyData, keySize, 0600); !st.ok()) return st.error().context(what);
  if (auto st = certTmp.write(certFile, certData, certSize, 0644); !st.ok()) return st.error().context(what);
  if (auto st = keyTmp.commit(keyFile); !st.ok()) return st.error().context(what);
  if (auto st = certTmp.commit(certFile); !st.ok()) return st.error().context(what);
  syncDirectoryOf(keyFile);
  if (std::filesystem::path(keyFile).parent_path() != std::filesystem::path(certFile).parent_path())
    syncDirectoryOf(certFile);
  return {};
}

Result<std::string> certificateFingerprintSha256(const std::string& certFile) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(certFile.c_str(), "re"), &std::fclose);
  if (!f) return Error::fromErrno("reading certificate " + certFile);
  Cert cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
  if (!cert) return sslError("reading certificate " + certFile + ": no PEM certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &len) != 1)
    return sslError("hashing certificate " + certFile);
  return core::toHexLower(core::ByteView(md, len));
}

}  // namespace sashimono::net
