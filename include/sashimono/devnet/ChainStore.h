#pragma once
// The devnet's persistent state in sqlite (<data dir>/devnet.db, WAL): ledger headers, account
// roots, transactions with their metadata, and a per-account transaction index.
//
// commit() writes one closed ledger in one sqlite transaction (synchronous=FULL: durable when it
// returns), so a ledger is either wholly on disk or not at all; the devnet publishes a ledger as
// validated only after commit() returned.
//
// Thread-safety: commit(), saveGenesis() and the load functions are for one writer thread.
// The query functions may be called from any number of threads concurrently; they use a pool of
// read-only connections and never block the writer (WAL).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/devnet/Chain.h"
#include "sashimono/store/Database.h"

namespace sashimono::devnet {

struct StoredTx {
  crypto::Hash256 hash{};
  std::uint32_t ledgerSeq = 0;
  std::uint32_t index = 0;
  int result = 0;
  core::Bytes blob;
  core::Bytes meta;
  std::uint32_t closeTime = 0;  // of its ledger
  crypto::Hash256 ledgerHash{};
};

struct AccountTxMarker {
  std::uint32_t ledger = 0;
  std::uint32_t seq = 0;  // transaction index within the ledger
};

struct AccountTxPage {
  std::vector<StoredTx> txs;
  std::optional<AccountTxMarker> marker;  // where the next page starts
};

class ChainStore {
 public:
  static core::Result<std::unique_ptr<ChainStore>> open(const std::string& dataDir);

  // Meta values (e.g. "genesis_seed"). Absent keys give nullopt.
  core::Result<std::optional<std::string>> meta(const std::string& key);
  core::Status setMeta(const std::string& key, const std::string& value);

  core::Result<std::optional<LedgerHeader>> lastLedger();
  core::Result<std::vector<AccountRoot>> loadAccounts();
  core::Status commit(const ClosedLedger& ledger);

  core::Result<std::optional<StoredTx>> tx(const crypto::Hash256& hash);
  core::Result<std::vector<StoredTx>> ledgerTxs(std::uint32_t seq);
  core::Result<std::optional<LedgerHeader>> ledger(std::uint32_t seq);
  core::Result<std::optional<LedgerHeader>> ledgerByHash(const crypto::Hash256& hash);
  // Transactions that affected `account` in ledgers [minSeq, maxSeq], oldest first when forward,
  // starting at `marker` (inclusive) if given; at most `limit`.
  core::Result<AccountTxPage> accountTx(const crypto::AccountId& account, std::uint32_t minSeq,
                                        std::uint32_t maxSeq, bool forward, std::uint32_t limit,
                                        std::optional<AccountTxMarker> marker);

  ~ChainStore();

 private:
  ChainStore() = default;
  class ReadLease;
  core::Result<ReadLease> reader();

  std::string path_;
  std::unique_ptr<store::Database> writer_;
  std::mutex readMu_;
  std::vector<std::unique_ptr<store::Database>> idleReaders_;
};

}  // namespace sashimono::devnet
