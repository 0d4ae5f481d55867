#include "sashimono/board/Requests.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::board {

namespace {
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void str(Writer& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

template <typename F>
std::string render(const char* command, F&& body) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("command");
  w.String(command);
  body(w);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}
}  // namespace

std::string renderServerInfo() {
  return render("server_info", [](Writer&) {});
}
std::string renderFee() {
  return render("fee", [](Writer&) {});
}
std::string renderLedgerCurrent() {
  return render("ledger_current", [](Writer&) {});
}
std::string renderLedgerClosed() {
  return render("ledger_closed", [](Writer&) {});
}
std::string renderPing() {
  return render("ping", [](Writer&) {});
}

std::string renderManifest(const std::string& nodePublicKey) {
  return render("manifest", [&](Writer& w) { str(w, "public_key", nodePublicKey); });
}

std::string renderLedger(std::uint32_t seq, bool transactions) {
  return render("ledger", [&](Writer& w) {
    w.Key("ledger_index");
    w.Uint(seq);
    w.Key("transactions");
    w.Bool(transactions);
    w.Key("expand");
    w.Bool(transactions);
    w.Key("binary");
    w.Bool(true);
  });
}

std::string renderAccountInfo(const std::string& account, bool validated) {
  return render("account_info", [&](Writer& w) {
    str(w, "account", account);
    str(w, "ledger_index", validated ? "validated" : "current");
  });
}

std::string renderSubmit(core::ByteView txBlob) {
  return render("submit", [&](Writer& w) { str(w, "tx_blob", core::toHex(txBlob)); });
}

std::string renderTx(const TxQuery& q) {
  return render("tx", [&](Writer& w) {
    str(w, "transaction", core::toHex(q.hash));
    w.Key("binary");
    w.Bool(q.binary);
    if (q.minLedger && q.maxLedger) {
      w.Key("min_ledger");
      w.Uint(*q.minLedger);
      w.Key("max_ledger");
      w.Uint(*q.maxLedger);
    }
  });
}

std::string renderAccountTx(const AccountTxQuery& q) {
  return render("account_tx", [&](Writer& w) {
    str(w, "account", q.account);
    w.Key("ledger_index_min");
    w.Int64(q.ledgerMin);
    w.Key("ledger_index_max");
    w.Int64(q.ledgerMax);
    w.Key("forward");
    w.Bool(q.forward);
    w.Key("binary");
    w.Bool(q.binary);
    w.Key("limit");
    w.Uint(q.limit);
    if (q.marker) {
      rapidjson::Document m;
      m.Parse<rapidjson::kParseIterativeFlag>(q.marker->c_str(), q.marker->size());
      w.Key("marker");
      if (m.HasParseError()) {
        w.Null();
      } else {
        m.Accept(w);
      }
    }
  });
}

std::string renderSubscribe(const std::string& account, bool ledger) {
  return render("subscribe", [&](Writer& w) {
    if (!account.empty()) {
      w.Key("accounts");
      w.StartArray();
      w.String(account.c_str(), static_cast<rapidjson::SizeType>(account.size()));
      w.EndArray();
    }
    if (ledger) {
      w.Key("streams");
      w.StartArray();
      w.String("ledger");
      w.EndArray();
    }
  });
}

std::string withId(std::uint64_t id, const std::string& request) {
  if (request.size() < 2 || request.front() != '{' || request.back() != '}') return {};
  std::string out = "{\"id\":" + std::to_string(id);
  std::string_view rest(request.data() + 1, request.size() - 1);
  // "{}" → {"id":N}; otherwise {"id":N, …}
  if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos &&
      rest.substr(rest.find_first_not_of(" \t\r\n"))[0] != '}')
    out += ',';
  out.append(rest);
  return out;
}

}  // namespace sashimono::board
