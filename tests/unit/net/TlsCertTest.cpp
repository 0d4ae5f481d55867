// Self-signed certificates: files and modes, the certificate's content (parsed in process, and by
// the openssl command when there is one), the key matches, renewal replaces both, bad names.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sashimono/net/TlsCert.h"

using namespace sashimono::net;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sashi-tlscert-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Cert = std::unique_ptr<X509, X509Free>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Cert readCert(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!f) return nullptr;
  return Cert(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
}

Pkey readKey(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "r"), &std::fclose);
  if (!f) return nullptr;
  return Pkey(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
}

// The one subjectAltName entry as "DNS:x" or "IP:a.b.c.d"/"IP:<16 bytes hex>".
std::string subjectAltName(X509* x) {
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "";
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (!out.empty()) out += ",";
    if (gn->type == GEN_DNS) {
      out += "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                                  ASN1_STRING_length(gn->d.dNSName));
    } else if (gn->type == GEN_IPADD) {
      const unsigned char* p = ASN1_STRING_get0_data(gn->d.iPAddress);
      const int n = ASN1_STRING_length(gn->d.iPAddress);
      out += "IP:";
      if (n == 4) {
        out += std::to_string(p[0]) + "." + std::to_string(p[1]) + "." + std::to_string(p[2]) + "." +
               std::to_string(p[3]);
      } else {
        char hex[3];
        for (int k = 0; k < n; ++k) {
          std::snprintf(hex, sizeof hex, "%02x", p[k]);
          out += hex;
        }
      }
    } else {
      out += "?";
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Runs a command, returns its exit status and stdout.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, out};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

bool haveOpensslCli() { return run("command -v openssl >/dev/null 2>&1").first == 0; }

}  // namespace

TEST(TlsCertTest, WritesKeyAndCertificateWithModes) {
  TempDir d;
  const std::string key = d.file("user.key");
  const std::string cert = d.file("user.crt");
  const mode_t oldMask = ::umask(0);  // the key must be 0600 whatever the umask
  auto st = makeSelfSignedCertificate(key, cert, "127.0.0.1");
  ::umask(oldMask);
  ASSERT_TRUE(st.ok()) << st.error().message;
  struct stat ks {};
  struct stat cs {};
  ASSERT_EQ(::stat(key.c_str(), &ks), 0);
  ASSERT_EQ(::stat(cert.c_str(), &cs), 0);
  EXPECT_EQ(ks.st_mode & 0777, 0600u);
  EXPECT_EQ(cs.st_mode & 0777, 0644u);
  // Nothing else left behind (no temporary files).
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(d.path)) ++entries;
  EXPECT_EQ(entries, 2);
}

TEST(TlsCertTest, CertificateContent) {
  TempDir d;
  const std::string key = d.file("k.pem");
  const std::string cert = d.file("c.pem");
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "127.0.0.1", std::chrono::hours(48)).ok());
  Cert x = readCert(cert);
  ASSERT_TRUE(x);
  Pkey k = readKey(key);
  ASSERT_TRUE(k);

  EXPECT_EQ(X509_get_version(x.get()), X509_VERSION_3);
  // ECDSA P-256 key; the certificate carries its public half; self-signed and the signature holds.
  EXPECT_EQ(EVP_PKEY_get_base_id(k.get()), EVP_PKEY_EC);
  char group[64] = {};
  std::size_t glen = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(k.get(), group, sizeof group, &glen), 1);
  EXPECT_STREQ(group, "prime256v1");
  EXPECT_EQ(X509_check_private_key(x.get(), k.get()), 1);
  EXPECT_EQ(X509_verify(x.get(), X509_get0_pubkey(x.get())), 1);
  EXPECT_EQ(X509_get_signature_nid(x.get()), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(x.get()), X509_get_issuer_name(x.get())), 0);
  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x.get()), NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "127.0.0.1");

  // Serial: positive, 16 bytes.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(x.get());
  EXPECT_EQ(ASN1_STRING_type(serial), V_ASN1_INTEGER);  // not V_ASN1_NEG_INTEGER
  EXPECT_EQ(ASN1_STRING_length(serial), 16);

  // Valid now, until about 48 hours from now.
  std::time_t now = std::time(nullptr);
  EXPECT_LT(X509_cmp_time(X509_get0_notBefore(x.get()), &now), 0);
  std::time_t in47h = now + 47 * 3600;
  std::time_t in49h = now + 49 * 3600;
  EXPECT_GT(X509_cmp_time(X509_get0_notAfter(x.get()), &in47h), 0);
  EXPECT_LT(X509_cmp_time(X509_get0_notAfter(x.get()), &in49h), 0);

  // Extensions.
  EXPECT_EQ(subjectAltName(x.get()), "IP:127.0.0.1");
  EXPECT_EQ(X509_check_ip_asc(x.get(), "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ca(x.get()), 0);
  const std::uint32_t ku = X509_get_key_usage(x.get());
  EXPECT_TRUE(ku & KU_DIGITAL_SIGNATURE);
  EXPECT_FALSE(ku & KU_KEY_CERT_SIGN);
  EXPECT_EQ(X509_get_extended_key_usage(x.get()), static_cast<std::uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_check_purpose(x.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
  int crit = -1;
  auto* bc =
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x.get(), NID_basic_constraints, &crit, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_EQ(bc->ca, 0);
  EXPECT_EQ(crit, 1);
  BASIC_CONSTRAINTS_free(bc);
}

TEST(TlsCertTest, NamesBecomeDnsOrIpAltNames) {
  TempDir d;
  const std::string key = d.file("k");
  const std::string cert = d.file("c");
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "host-1.example.org").ok());
  EXPECT_EQ(subjectAltName(readCert(cert).get()), "DNS:host-1.example.org");
  EXPECT_EQ(X509_check_host(readCert(cert).get(), "host-1.example.org", 0, 0, nullptr), 1);
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "::1").ok());
  EXPECT_EQ(subjectAltName(readCert(cert).get()), "IP:00000000000000000000000000000001");
  EXPECT_EQ(X509_check_ip_asc(readCert(cert).get(), "::1", 0), 1);
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "localhost").ok());
  EXPECT_EQ(subjectAltName(readCert(cert).get()), "DNS:localhost");
}

TEST(TlsCertTest, RefusesBadNamesAndArguments) {
  TempDir d;
  const std::string key = d.file("k");
  const std::string cert = d.file("c");
  for (const char* bad : {"", "a,IP:1.2.3.4", "host name", "-lead.example", "x..y", "[::1]", "trailing.",
                          "a/b", "caf\xc3\xa9.example"}) {
    auto st = makeSelfSignedCertificate(key, cert, bad);
    EXPECT_FALSE(st.ok()) << bad;
  }
  EXPECT_FALSE(makeSelfSignedCertificate(key, cert, std::string(65, 'a')).ok());
  EXPECT_FALSE(makeSelfSignedCertificate(key, cert, "ok.example", std::chrono::hours(0)).ok());
  EXPECT_FALSE(makeSelfSignedCertificate(key, key, "ok.example").ok());
  EXPECT_FALSE(fs::exists(key));
  EXPECT_FALSE(fs::exists(cert));
  // A directory that does not exist: an error naming the file, nothing created.
  auto st = makeSelfSignedCertificate(d.file("no/k"), d.file("no/c"), "ok.example");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(d.file("no/k")), std::string::npos) << st.error().message;
}

TEST(TlsCertTest, RenewalReplacesBothFiles) {
  TempDir d;
  const std::string key = d.file("k");
  const std::string cert = d.file("c");
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "10.0.0.1").ok());
  auto fp1 = certificateFingerprintSha256(cert);
  ASSERT_TRUE(fp1.ok()) << fp1.error().message;
  ::chmod(key.c_str(), 0644);  // the new key is 0600 again whatever the old file was
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "10.0.0.1").ok());
  auto fp2 = certificateFingerprintSha256(cert);
  ASSERT_TRUE(fp2.ok());
  EXPECT_NE(*fp1, *fp2);  // new key, new serial
  struct stat ks {};
  ASSERT_EQ(::stat(key.c_str(), &ks), 0);
  EXPECT_EQ(ks.st_mode & 0777, 0600u);
  EXPECT_EQ(X509_check_private_key(readCert(cert).get(), readKey(key).get()), 1);
}

TEST(TlsCertTest, FingerprintIsSha256OfDer) {
  TempDir d;
  const std::string key = d.file("k");
  const std::string cert = d.file("c");
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "example.net").ok());
  auto fp = certificateFingerprintSha256(cert);
  ASSERT_TRUE(fp.ok()) << fp.error().message;
  ASSERT_EQ(fp->size(), 64u);
  EXPECT_EQ(fp->find_first_not_of("0123456789abcdef"), std::string::npos);
  // Computed independently: SHA-256 of the DER.
  Cert x = readCert(cert);
  unsigned char* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  ASSERT_GT(n, 0);
  unsigned char md[32];
  unsigned int mdLen = 0;
  ASSERT_EQ(EVP_Digest(der, static_cast<std::size_t>(n), md, &mdLen, EVP_sha256(), nullptr), 1);
  OPENSSL_free(der);
  std::string hex;
  char b[3];
  for (unsigned i = 0; i < mdLen; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    hex += b;
  }
  EXPECT_EQ(*fp, hex);

  EXPECT_FALSE(certificateFingerprintSha256(d.file("missing")).ok());
  EXPECT_FALSE(certificateFingerprintSha256(key).ok());  // a key, not a certificate
}

TEST(TlsCertTest, OpensslCommandParsesIt) {
  if (!haveOpensslCli()) GTEST_SKIP() << "no openssl command; the in-process checks above stand";
  TempDir d;
  const std::string key = d.file("k.pem");
  const std::string cert = d.file("c.pem");
  ASSERT_TRUE(makeSelfSignedCertificate(key, cert, "192.0.2.7").ok());
  auto [code, text] = run("openssl x509 -noout -text -in '" + cert + "' 2>&1");
  ASSERT_EQ(code, 0) << text;
  EXPECT_NE(text.find("Version: 3 (0x2)"), std::string::npos) << text;
  EXPECT_NE(text.find("ecdsa-with-SHA256"), std::string::npos) << text;
  EXPECT_NE(text.find("NIST CURVE: P-256"), std::string::npos) << text;
  EXPECT_NE(text.find("IP Address:192.0.2.7"), std::string::npos) << text;
  EXPECT_NE(text.find("CA:FALSE"), std::string::npos) << text;
  EXPECT_NE(text.find("Digital Signature"), std::string::npos) << text;
  EXPECT_NE(text.find("TLS Web Server Authentication"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: CN = 192.0.2.7"), std::string::npos) << text;
  // The key parses and matches (same public key).
  auto [kc, kpub] = run("openssl pkey -in '" + key + "' -pubout 2>&1");
  auto [cc, cpub] = run("openssl x509 -in '" + cert + "' -noout -pubkey 2>&1");
  ASSERT_EQ(kc, 0) << kpub;
  ASSERT_EQ(cc, 0) << cpub;
  EXPECT_EQ(kpub, cpub);
  // The self-signed certificate verifies against itself for TLS server use.
  auto [vc, vout] = run("openssl verify -purpose sslserver -CAfile '" + cert + "' '" + cert + "' 2>&1");
  EXPECT_EQ(vc, 0) << vout;
  // Same fingerprint as the openssl command's.
  auto [fc, fout] = run("openssl x509 -noout -fingerprint -sha256 -in '" + cert + "'");
  ASSERT_EQ(fc, 0);
  std::string theirs;
  for (char c : fout.substr(fout.find('=') + 1))
    if (std::isxdigit(static_cast<unsigned char>(c))) theirs += static_cast<char>(std::tolower(c));
  EXPECT_EQ(*certificateFingerprintSha256(cert), theirs);
}
