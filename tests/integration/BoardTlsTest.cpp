// wss:// for real: the board client against the devnet behind a TLS-terminating proxy on
// 127.0.0.1, with a private CA and certificates made at test time (OpenSSL C API, temp dir).
// A certificate chaining to the CA given as caFile connects and carries a payment; the system
// store alone, a certificate for another name, a self-signed one and an expired one are refused
// before any byte reaches the devnet; a bad server is failed over to a good one; and the CLI's
// --ca-file takes the same path.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/board/Recorder.h"
#include "fakes/node/Child.h"
#include "sashimono/board/BoardClient.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

// ---- a small PKI (OpenSSL C API) ----

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

struct KeyAndCert {
  Pkey key;
  Cert cert;
};

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL: ") + what);
}

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "extension");
  const int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  check(ok == 1, "add extension");
}

// A P-256 key and a certificate for it, valid from now+fromSeconds to now+toSeconds, signed by
// `issuer` (nullptr: self-signed). `san` e.g. "IP:127.0.0.1"; empty for a CA.
KeyAndCert makeCert(const std::string& cn, const std::string& san, const KeyAndCert* issuer, bool isCa,
                    long fromSeconds, long toSeconds) {
  static std::atomic<long> serial{1000};
  KeyAndCert kc;
  kc.key.reset(EVP_EC_gen("P-256"));
  check(kc.key != nullptr, "key generation");
  kc.cert.reset(X509_new());
  X509* x = kc.cert.get();
  check(X509_set_version(x, 2) == 1, "version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial) == 1, "serial");
  check(X509_gmtime_adj(X509_getm_notBefore(x), fromSeconds) != nullptr, "notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(x), toSeconds) != nullptr, "notAfter");
  check(X509_set_pubkey(x, kc.key.get()) == 1, "pubkey");
  X509_NAME* name = X509_get_subject_name(x);
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1,
        "CN");
  X509* issuerCert = issuer ? issuer->cert.get() : x;
  check(X509_set_issuer_name(x, X509_get_subject_name(issuerCert)) == 1, "issuer");
  if (isCa) {
    addExt(x, issuerCert, NID_basic_constraints, "critical,CA:TRUE");
    addExt(x, issuerCert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExt(x, issuerCert, NID_basic_constraints, "critical,CA:FALSE");
    addExt(x, issuerCert, NID_key_usage, "critical,digitalSignature");
    addExt(x, issuerCert, NID_ext_key_usage, "serverAuth");
  }
  if (!san.empty()) addExt(x, issuerCert, NID_subject_alt_name, san.c_str());
  EVP_PKEY* signer = issuer ? issuer->key.get() : kc.key.get();
  check(X509_sign(x, signer, EVP_sha256()) > 0, "sign");
  return kc;
}

void writePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  BIO* bio = BIO_new_file(path.c_str(), "w");
  check(bio != nullptr, "open PEM file");
  bool ok = PEM_write_bio_X509(bio, cert) == 1;
  if (ok && key) ok = PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  BIO_free(bio);
  check(ok, "write PEM");
}

// ---- a TLS-terminating proxy: TLS on 127.0.0.1:port() piped to the devnet's plain port ----

class TlsProxy {
 public:
  // `pem` holds the certificate and its private key.
  TlsProxy(const std::string& pem, std::uint16_t backendPort)
      : backend_(asio::ip::make_address("127.0.0.1"), backendPort) {
    ctx_.use_certificate_chain_file(pem);
    ctx_.use_private_key_file(pem, ssl::context::pem);
    acceptor_.open(tcp::v4());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TlsProxy() {
    asio::post(ioc_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      for (auto& w : sessions_)
        if (auto s = w.lock()) s->shutdown();
      work_.reset();
    });
    thread_.join();
  }
  TlsProxy(const TlsProxy&) = delete;
  TlsProxy& operator=(const TlsProxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  [[nodiscard]] std::string url() const { return "wss://127.0.0.1:" + std::to_string(port()) + "/"; }
  [[nodiscard]] std::string urlAs(const std::string& host) const {
    return "wss://" + host + ":" + std::to_string(port()) + "/";
  }

  std::atomic<int> accepted{0};       // TCP connections
  std::atomic<int> handshakesOk{0};   // TLS handshakes completed
  std::atomic<int> handshakesBad{0};  // refused by the client (or failed)
  std::atomic<std::uint64_t> bytesToBackend{0};
  std::atomic<std::uint64_t> bytesToClient{0};
  void clearHandshakeError() {
    std::lock_guard lock(mu_);
    lastHandshakeError_.clear();
  }
  std::string lastHandshakeError() const {
    std::lock_guard lock(mu_);
    return lastHandshakeError_;
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(TlsProxy& p, tcp::socket s) : proxy(p), tls(std::move(s), p.ctx_), plain(p.ioc_) {}
    TlsProxy& proxy;
    ssl::stream<tcp::socket> tls;
    tcp::socket plain;
    std::array<char, 16384> up{};
    std::array<char, 16384> down{};

    void shutdown() {
      boost::system::error_code ec;
      tls.lowest_layer().close(ec);
      plain.close(ec);
    }
    void start() {
      tls.async_handshake(
          ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
            if (ec) {
              ++self->proxy.handshakesBad;
              std::lock_guard lock(self->proxy.mu_);
              self->proxy.lastHandshakeError_ = ec.message();
              self->shutdown();
              return;
            }
            ++self->proxy.handshakesOk;
            self->plain.async_connect(self->proxy.backend_, [self](boost::system::error_code ec2) {
              if (ec2) {
                self->shutdown();
                return;
              }
              self->pumpUp();
              self->pumpDown();
            });
          });
    }
    // Client (TLS) → devnet (plain).
    void pumpUp() {
      tls.async_read_some(asio::buffer(up),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            if (ec) {
                              self->shutdown();
                              return;
                            }
                            asio::async_write(self->plain, asio::buffer(self->up.data(), n),
                                              [self](boost::system::error_code ec2, std::size_t m) {
                                                if (ec2) {
                                                  self->shutdown();
                                                  return;
                                                }
                                                self->proxy.bytesToBackend += m;
                                                self->pumpUp();
                                              });
                          });
    }
    // Devnet (plain) → client (TLS).
    void pumpDown() {
      plain.async_read_some(asio::buffer(down),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                              if (ec) {
                                self->shutdown();
                                return;
                              }
                              asio::async_write(self->tls, asio::buffer(self->down.data(), n),
                                                [self](boost::system::error_code ec2, std::size_t m) {
                                                  if (ec2) {
                                                    self->shutdown();
                                                    return;
                                                  }
                                                  self->proxy.bytesToClient += m;
                                                  self->pumpDown();
                                                });
                            });
    }
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec) return;  // closed
      ++accepted;
      auto session = std::make_shared<Session>(*this, std::move(s));
      std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
      sessions_.push_back(session);
      session->start();
      accept();
    });
  }

  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{ioc_.get_executor()};
  ssl::context ctx_{ssl::context::tls_server};
  tcp::endpoint backend_;
  tcp::acceptor acceptor_{ioc_};
  std::vector<std::weak_ptr<Session>> sessions_;  // io thread only
  mutable std::mutex mu_;
  std::string lastHandshakeError_;
  std::thread thread_;
};

// ---- the shared world: devnet, PKI files, one proxy per certificate ----

struct World {
  std::string seed = newGenesisSeed();
  DevnetProcess devnet{SASHIMONO_BINARY, seed, 250};
  DevnetWallet wallet{devnet.url(), seed};
  TempDir dir;
  std::string caPem = dir.path() + "/ca.pem";
  std::unique_ptr<TlsProxy> good;           // IP:127.0.0.1, signed by the CA
  std::unique_ptr<TlsProxy> otherName;      // DNS:other.example, signed by the CA
  std::unique_ptr<TlsProxy> localhostOnly;  // DNS:localhost, signed by the CA (name check control)
  std::unique_ptr<TlsProxy> selfSigned;     // IP:127.0.0.1, self-signed
  std::unique_ptr<TlsProxy> expired;        // IP:127.0.0.1, signed by the CA, expired yesterday

  World() {
    constexpr long day = 24 * 3600;
    KeyAndCert ca = makeCert("Sashimono Test CA", "", nullptr, true, -day, 30 * day);
    writePem(caPem, ca.cert.get(), nullptr);
    auto proxy = [&](const std::string& file, const KeyAndCert& kc) {
      const std::string path = dir.path() + "/" + file;
      writePem(path, kc.cert.get(), kc.key.get());
      return std::make_unique<TlsProxy>(path, devnet.port());
    };
    good = proxy("good.pem", makeCert("127.0.0.1", "IP:127.0.0.1", &ca, false, -day, 30 * day));
    otherName =
        proxy("other.pem", makeCert("other.example", "DNS:other.example", &ca, false, -day, 30 * day));
    localhostOnly =
        proxy("localhost.pem", makeCert("localhost", "DNS:localhost", &ca, false, -day, 30 * day));
    selfSigned = proxy("self.pem", makeCert("127.0.0.1", "IP:127.0.0.1", nullptr, false, -day, 30 * day));
    expired = proxy("expired.pem", makeCert("127.0.0.1", "IP:127.0.0.1", &ca, false, -2 * day, -day));
  }
};

class BoardTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { world_ = new World(); }
  static void TearDownTestSuite() {
    delete world_;
    world_ = nullptr;
  }
  static World& w() { return *world_; }

  static BoardOptions options(std::vector<std::string> urls, std::string caFile) {
    BoardOptions o;
    o.urls = std::move(urls);
    o.caFile = std::move(caFile);
    o.account = newKey().address();
    o.connectTimeout = 3000ms;
    o.requestTimeout = 3000ms;
    o.backoffMin = 50ms;
    o.backoffMax = 200ms;
    return o;
  }

  // A client on `url` alone must be refused by its own certificate check: it fails at least
  // twice with a verification error, never connects, and the proxy never completes a handshake
  // or forwards a byte to the devnet. `alert`: what the client's TLS alert must say (the reason
  // as the server sees it), if given.
  static void expectRefused(TlsProxy& proxy, const std::string& url, const std::string& caFile,
                            const std::string& alert = {}) {
    proxy.clearHandshakeError();
    const int okBefore = proxy.handshakesOk;
    const std::uint64_t bytesBefore = proxy.bytesToBackend;
    std::atomic<int> connectedEvents{0};
    BoardEvents ev;
    ev.onConnection = [&](const std::string&, bool connected, const std::string&) {
      if (connected) ++connectedEvents;
    };
    BoardClient client(options({url}, caFile), ev);
    ASSERT_TRUE(client.start(std::nullopt).ok());
    auto end = std::chrono::steady_clock::now() + 10s;
    while ((client.status().reconnects < 2 || proxy.lastHandshakeError().empty()) &&
           std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    const BoardStatus st = client.status();
    client.stop();
    EXPECT_GE(st.reconnects, 2u);
    EXPECT_FALSE(st.connected);
    EXPECT_EQ(connectedEvents.load(), 0);
    EXPECT_NE(st.lastError.find("certificate verify failed"), std::string::npos) << st.lastError;
    EXPECT_EQ(proxy.handshakesOk.load(), okBefore) << "the proxy completed a TLS handshake";
    EXPECT_EQ(proxy.bytesToBackend.load(), bytesBefore) << "bytes reached the devnet";
    EXPECT_GE(proxy.handshakesBad.load(), 1);
    if (!alert.empty()) {
      EXPECT_NE(proxy.lastHandshakeError().find(alert), std::string::npos) << proxy.lastHandshakeError();
    }
    std::cerr << "refused " << url << ": client: " << st.lastError
              << "\n  proxy saw: " << proxy.lastHandshakeError() << "\n";
  }

  static World* world_;
};

World* BoardTlsTest::world_ = nullptr;

}  // namespace

TEST_F(BoardTlsTest, TrustedByCaFileConnectsCatchesUpAndReceivesAPayment) {
  BoardOptions o = options({w().good->url()}, w().caPem);
  const std::string account = o.account;
  // A payment validated before the client starts, found by the catch-up over TLS...
  const std::string p1 = w().wallet.pay(account, 10'000'000);
  const std::uint32_t l1 = w().wallet.waitValidated(p1);
  Recorder rec;
  BoardClient client(o, rec.events());
  ASSERT_TRUE(client.start(l1 - 1).ok());
  ASSERT_TRUE(client.waitConnected(10s)) << client.status().lastError;
  ASSERT_TRUE(rec.waitCount(1, 10s));
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), p1);
  // ...and one sent now, carried live.
  const std::string p2 = w().wallet.pay(account, 1234);
  ASSERT_TRUE(rec.waitCount(2, 10s));
  EXPECT_EQ(core::toHex(rec.txs()[1].hash), p2);
  EXPECT_EQ(rec.txs()[1].result, "tesSUCCESS");
  EXPECT_TRUE(rec.noDuplicates());
  // The request helpers work over the same TLS connection.
  auto info = client.serverInfo();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(client.status().url, w().good->url());
  EXPECT_EQ(client.status().reconnects, 0u);
  EXPECT_GE(w().good->handshakesOk.load(), 1);
  EXPECT_GT(w().good->bytesToBackend.load(), 0u);
  EXPECT_GT(w().good->bytesToClient.load(), 0u);
}

TEST_F(BoardTlsTest, WithoutTheCaFileThePrivateCaIsNotTrusted) {
  expectRefused(*w().good, w().good->url(), "", "unknown ca");
}

TEST_F(BoardTlsTest, CertificateForAnotherNameIsRefused) {
  expectRefused(*w().otherName, w().otherName->url(), w().caPem);
  // Control: a certificate naming only "localhost" is refused at wss://127.0.0.1 but accepted at
  // wss://localhost, so the refusal above is the host name check, not the chain.
  expectRefused(*w().localhostOnly, w().localhostOnly->url(), w().caPem);
  BoardClient client(options({w().localhostOnly->urlAs("localhost")}, w().caPem));
  ASSERT_TRUE(client.start(std::nullopt).ok());
  EXPECT_TRUE(client.waitConnected(10s)) << client.status().lastError;
}

TEST_F(BoardTlsTest, SelfSignedCertificateIsRefused) {
  expectRefused(*w().selfSigned, w().selfSigned->url(), w().caPem, "unknown ca");
  // verifyPeer = false (tests only) accepts it.
  BoardOptions o = options({w().selfSigned->url()}, "");
  o.verifyPeer = false;
  BoardClient client(o);
  ASSERT_TRUE(client.start(std::nullopt).ok());
  EXPECT_TRUE(client.waitConnected(10s)) << client.status().lastError;
}

TEST_F(BoardTlsTest, ExpiredCertificateIsRefused) {
  expectRefused(*w().expired, w().expired->url(), w().caPem, "certificate expired");
}

TEST_F(BoardTlsTest, FailsOverFromABadCertificateToAGoodOne) {
  const int badBefore = w().otherName->handshakesBad;
  BoardOptions o = options({w().otherName->url(), w().selfSigned->url(), w().good->url()}, w().caPem);
  const std::string account = o.account;
  Recorder rec;
  BoardClient client(o, rec.events());
  ASSERT_TRUE(client.start(std::nullopt).ok());
  ASSERT_TRUE(client.waitConnected(10s)) << client.status().lastError;
  EXPECT_EQ(client.status().url, w().good->url());
  EXPECT_GE(client.status().reconnects, 2u);
  EXPECT_GT(w().otherName->handshakesBad.load(), badBefore);
  const std::string h = w().wallet.pay(account, 10'000'000);
  ASSERT_TRUE(rec.waitCount(1, 10s));
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), h);
  EXPECT_EQ(client.status().url, w().good->url());
}

TEST_F(BoardTlsTest, CliTakesTheCaFile) {
  const std::string registry = newKey().address();
  w().wallet.waitValidated(w().wallet.pay(registry, 100'000'000));
  auto run = node::fakes::runCli(
      {"hosts", "--registry", registry, "--board", w().good->url(), "--ca-file", w().caPem, "--json"}, {},
      30s);
  ASSERT_EQ(run.code, 0) << run.out;
  ASSERT_TRUE(run.json.IsObject()) << run.out;
  EXPECT_EQ(std::string(run.json["registry"].GetString()), registry);
  // Without it, the same command cannot connect.
  auto refused = node::fakes::runCli(
      {"hosts", "--registry", registry, "--board", w().good->url(), "--timeout", "2", "--json"}, {}, 30s);
  EXPECT_NE(refused.code, 0) << refused.out;
}
