#include "sashimono/ledger/Codec.h"

#include <gtest/gtest.h>

#include "VectorsFixture.h"
#include "sashimono/ledger/Definitions.h"

using namespace sashimono;
using sashimono::testing::parseJson;
using sashimono::testing::toJson;

namespace {
std::string encodeHex(const std::string& json) {
  auto d = parseJson(json);
  auto b = ledger::encode(d);
  if (!b) return "ERROR: " + b.error().message;
  return core::toHex(*b);
}
core::Error encodeError(const std::string& json) {
  auto d = parseJson(json);
  auto b = ledger::encode(d);
  EXPECT_FALSE(b.ok()) << json;
  return b.ok() ? core::Error() : b.error();
}
core::Error decodeError(const std::string& hex) {
  auto bytes = core::fromHex(hex);
  EXPECT_TRUE(bytes.ok());
  auto d = ledger::decode(*bytes);
  EXPECT_FALSE(d.ok()) << hex;
  return d.ok() ? core::Error() : d.error();
}
bool contains(const core::Error& e, const std::string& s) { return e.message.find(s) != std::string::npos; }

// Decoded JSON must equal the input JSON (member order aside).
void expectSameJson(const rapidjson::Value& a, const rapidjson::Value& b) {
  EXPECT_TRUE(a == b) << toJson(a) << "\n" << toJson(b);
}
}  // namespace

TEST(Codec, PaymentVectorsFromJsLibraries) {
  auto v = sashimono::testing::loadXrplVectors();
  ASSERT_GE(v["payments"].Size(), 3u);
  for (const auto& p : v["payments"].GetArray()) {
    const auto& tx = p["tx_json"];
    auto signing = ledger::encodeForSigning(tx);
    ASSERT_TRUE(signing.ok()) << signing.error().message;
    EXPECT_EQ(core::toHex(*signing), p["signing_blob"].GetString());

    auto blob = core::fromHex(p["tx_blob"].GetString());
    ASSERT_TRUE(blob.ok());
    EXPECT_EQ(core::toHex(ledger::transactionHash(*blob)), p["hash"].GetString());

    auto decoded = ledger::decode(*blob);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    // The decoded blob is tx_json plus the two signature fields.
    rapidjson::Document expected;
    expected.CopyFrom(tx, expected.GetAllocator());
    expected.AddMember("SigningPubKey",
                       rapidjson::Value((*decoded)["SigningPubKey"], expected.GetAllocator()),
                       expected.GetAllocator());
    expected.AddMember("TxnSignature", rapidjson::Value((*decoded)["TxnSignature"], expected.GetAllocator()),
                       expected.GetAllocator());
    expectSameJson(*decoded, expected);

    auto again = ledger::encode(*decoded);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(core::toHex(*again), p["tx_blob"].GetString());
  }
}

TEST(Codec, FieldHeadersAndOrdering) {
  // Type < 16, field < 16: one byte. Fields in any JSON order come out sorted.
  EXPECT_EQ(encodeHex(R"({"Sequence":1,"Flags":2})"), "22000000022400000001");
  // Type < 16, field >= 16: LastLedgerSequence (UInt32, 27) -> 20 1B.
  EXPECT_EQ(encodeHex(R"({"LastLedgerSequence":5})"), "201B00000005");
  // Type >= 16, field < 16: TransactionResult (UInt8 = 16, field 3) -> 03 10.
  EXPECT_EQ(encodeHex(R"({"TransactionResult":"tesSUCCESS"})"), "031000");
  // Type >= 16, field >= 16: TickSize (UInt8 = 16, field 16) -> 00 10 10.
  EXPECT_EQ(encodeHex(R"({"TickSize":5})"), "00101005");
  for (const char* hex : {"22000000022400000001", "201B00000005", "031000", "00101005"}) {
    auto d = ledger::decode(*core::fromHex(hex));
    ASSERT_TRUE(d.ok()) << hex << ": " << d.error().message;
    EXPECT_EQ(core::toHex(*ledger::encode(*d)), hex);
  }
}

TEST(Codec, VlLengthPrefixes) {
  for (std::size_t n : {0u, 1u, 192u, 193u, 12480u, 12481u, 20000u}) {
    std::string hex(n * 2, 'A');
    auto doc = parseJson(R"({"MemoData":")" + hex + "\"}");
    auto b = ledger::encode(doc);
    ASSERT_TRUE(b.ok());
    std::size_t prefix = n <= 192 ? 1 : n <= 12480 ? 2 : 3;
    EXPECT_EQ(b->size(), 1 + prefix + n) << n;
    auto d = ledger::decode(*b);
    ASSERT_TRUE(d.ok()) << n << ": " << d.error().message;
    EXPECT_EQ((*d)["MemoData"].GetStringLength(), n * 2);
  }
  EXPECT_EQ(encodeHex(R"({"Domain":""})"), "7700");
}

TEST(Codec, AmountsXrpAndIssued) {
  EXPECT_EQ(encodeHex(R"({"Amount":"0"})"), "614000000000000000");
  EXPECT_EQ(encodeHex(R"({"Amount":"100000000000000000"})"), "61416345785D8A0000");
  EXPECT_TRUE(contains(encodeError(R"({"Amount":"100000000000000001"})"), "exceeds"));
  EXPECT_TRUE(contains(encodeError(R"({"Amount":"1.5"})"), "whole number of drops"));
  EXPECT_TRUE(contains(encodeError(R"({"Amount":1000})"), "expected a string of drops"));
  EXPECT_EQ(encodeError(R"({"Amount":"abc"})").code, "temBAD_AMOUNT");

  const char* issuer = "r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS7";
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {{"1", "1"},
               {"1.5", "1.5"},
               {"-2.25", "-2.25"},
               {"0", "0"},
               {"0.000", "0"},
               {"1e3", "1000"},
               {"12345678.90123456", "12345678.90123456"},
               {"0.0000001", "0.0000001"},
               {"1e80", nullptr},
               {"9999999999999999e80", nullptr},
               {"1e-81", nullptr},
               {"+7", "7"}};
  for (const auto& c : cases) {
    std::string json =
        std::string(R"({"Amount":{"currency":"USD","issuer":")") + issuer + R"(","value":")" + c.in + "\"}}";
    auto d = parseJson(json);
    auto b = ledger::encode(d);
    ASSERT_TRUE(b.ok()) << c.in << ": " << b.error().message;
    ASSERT_EQ(b->size(), 1u + 48u);
    auto back = ledger::decode(*b);
    ASSERT_TRUE(back.ok()) << c.in << ": " << back.error().message;
    const auto& amt = (*back)["Amount"];
    EXPECT_STREQ(amt["currency"].GetString(), "USD");
    EXPECT_STREQ(amt["issuer"].GetString(), issuer);
    if (c.out != nullptr) {
      EXPECT_STREQ(amt["value"].GetString(), c.out) << c.in;
    }
    EXPECT_EQ(core::toHex(*ledger::encode(*back)), core::toHex(*b)) << c.in;
  }
  // Zero is 0x8000000000000000; 1 is mantissa 10^15, exponent -15.
  std::string usd = std::string(R"(,"currency":"USD","issuer":")") + issuer + "\"}}";
  EXPECT_EQ(encodeHex(std::string(R"({"Amount":{"value":"0")") + usd).substr(2, 16), "8000000000000000");
  EXPECT_EQ(encodeHex(std::string(R"({"Amount":{"value":"1")") + usd).substr(2, 16), "D4838D7EA4C68000");
  EXPECT_TRUE(contains(encodeError(std::string(R"({"Amount":{"value":"12345678901234567")") + usd),
                       "16 significant"));
  EXPECT_TRUE(
      contains(encodeError(std::string(R"({"Amount":{"value":"1e-82")") + usd), "exponent out of range"));
  EXPECT_TRUE(
      contains(encodeError(std::string(R"({"Amount":{"value":"1e97")") + usd), "exponent out of range"));
  EXPECT_TRUE(contains(encodeError(std::string(R"({"Amount":{"value":"1x")") + usd), "unexpected character"));
  EXPECT_TRUE(contains(encodeError(std::string(R"({"Amount":{"value":1)") + usd), "decimal string"));
  std::string iss = std::string(R"(","issuer":")") + issuer + R"(","value":"1"}})";
  EXPECT_TRUE(contains(encodeError(R"({"Amount":{"currency":"XRP)" + iss), "XRP"));
  EXPECT_TRUE(contains(encodeError(R"({"Amount":{"currency":"US)" + iss), "invalid currency"));
  EXPECT_TRUE(contains(encodeError(R"({"Amount":{"currency":"U S)" + iss), "invalid currency"));
  EXPECT_TRUE(contains(
      encodeError(R"({"Amount":{"currency":"0000000000000000000000000000000000000000)" + iss), "XRP"));
  // A 160-bit currency code round-trips as hex.
  std::string hexCur = "015841551A748AD2C1F76FF6ECB0CCCD00000000";
  auto d = parseJson(R"({"Amount":{"currency":")" + hexCur + iss);
  auto b = ledger::encode(d);
  ASSERT_TRUE(b.ok());
  EXPECT_STREQ((*ledger::decode(*b))["Amount"]["currency"].GetString(), hexCur.c_str());
  EXPECT_TRUE(contains(encodeError(R"({"Amount":{"currency":"USD","value":"1"}})"), "exactly the members"));
}

TEST(Codec, MetadataAndLedgerEntryFields) {
  const char* meta = R"({
    "TransactionIndex": 3,
    "TransactionResult": "tecUNFUNDED_PAYMENT",
    "DeliveredAmount": "1000",
    "AffectedNodes": [
      {"ModifiedNode": {
        "LedgerEntryType": "AccountRoot",
        "LedgerIndex": "13F1A95D7AAB7108D5CE7EEAF504B2894B8C674E6D68499076441C4837282BF8",
        "PreviousTxnID": "74F00B5E1D6DD367557FA7BEDD1DA27D8D8CAAA86106F012AE3AA24266F1077A",
        "PreviousTxnLgrSeq": 7,
        "FinalFields": {"Account": "r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS7", "Balance": "999990", "Flags": 0,
                        "OwnerCount": 0, "Sequence": 2},
        "PreviousFields": {"Balance": "1000000", "Sequence": 1}}},
      {"CreatedNode": {
        "LedgerEntryType": "AccountRoot",
        "LedgerIndex": "4B8C674E6D68499076441C4837282BF813F1A95D7AAB7108D5CE7EEAF504B289",
        "NewFields": {"Account": "rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD", "Balance": "1000", "Sequence": 1}}},
      {"DeletedNode": {
        "LedgerEntryType": "Offer",
        "LedgerIndex": "0000000000000000000000000000000000000000000000000000000000000001",
        "FinalFields": {"OwnerNode": "0", "BookNode": "1F"}}}
    ]})";
  auto d = parseJson(meta);
  auto b = ledger::encode(d);
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto back = ledger::decode(*b);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_STREQ((*back)["TransactionResult"].GetString(), "tecUNFUNDED_PAYMENT");
  EXPECT_STREQ((*back)["AffectedNodes"][0]["ModifiedNode"]["LedgerEntryType"].GetString(), "AccountRoot");
  EXPECT_STREQ((*back)["AffectedNodes"][2]["DeletedNode"]["FinalFields"]["BookNode"].GetString(),
               "000000000000001F");
  EXPECT_EQ(core::toHex(*ledger::encode(*back)), core::toHex(*b));
  // AffectedNodes (STArray 8) comes after the hash and amount fields; TransactionResult (UInt8) last.
  EXPECT_EQ(b->back(), 104);  // tecUNFUNDED_PAYMENT
}

TEST(Codec, Vector256AndHashes) {
  auto d = parseJson(R"({"Amendments":["0000000000000000000000000000000000000000000000000000000000000001",
     "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"], "EmailHash":"", "AccountTxnID":
     "0000000000000000000000000000000000000000000000000000000000000000"})");
  auto b = ledger::encode(d);
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto back = ledger::decode(*b);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ((*back)["Amendments"].Size(), 2u);
  EXPECT_STREQ((*back)["EmailHash"].GetString(), "");
  EXPECT_EQ(core::toHex(*ledger::encode(*back)), core::toHex(*b));
  EXPECT_TRUE(contains(encodeError(R"({"Amendments":["00"]})"), "expected 64 hex digits"));
  EXPECT_TRUE(contains(decodeError("031301AA"), "not a multiple of 32"));
}

TEST(Codec, EncodeErrorsNameTheField) {
  EXPECT_TRUE(contains(encodeError(R"({"Foo":1})"), "unknown field 'Foo'"));
  EXPECT_TRUE(
      contains(encodeError(R"({"Memos":[{"Memo":{"Bar":"00"}}]})"), "unknown field 'Memos[0].Memo.Bar'"));
  EXPECT_TRUE(contains(encodeError(R"({"TransactionType":"Paymnt"})"), "unknown TransactionType 'Paymnt'"));
  EXPECT_TRUE(contains(encodeError(R"({"LedgerEntryType":"Nope"})"), "unknown LedgerEntryType"));
  EXPECT_TRUE(contains(encodeError(R"({"TransactionResult":"tesNOPE"})"), "unknown transaction result"));
  EXPECT_TRUE(contains(encodeError(R"({"TransactionResult":"tefPAST_SEQ"})"), "only tes/tec"));
  EXPECT_TRUE(contains(encodeError(R"({"Sequence":"x"})"), "field 'Sequence'"));
  EXPECT_TRUE(contains(encodeError(R"({"Sequence":-1})"), "unsigned integer"));
  EXPECT_TRUE(contains(encodeError(R"({"Sequence":1.5})"), "unsigned integer"));
  EXPECT_TRUE(contains(encodeError(R"({"Sequence":4294967296})"), "out of range"));
  EXPECT_TRUE(contains(encodeError(R"({"TickSize":256})"), "out of range"));
  EXPECT_TRUE(contains(encodeError(R"({"Flags":true})"), "field 'Flags'"));
  EXPECT_TRUE(contains(encodeError(R"({"Account":"rNOPE"})"), "field 'Account'"));
  EXPECT_TRUE(contains(encodeError(R"({"Account":5})"), "r-address"));
  EXPECT_TRUE(contains(encodeError(R"({"MemoData":"ABC"})"), "even-length hex"));
  EXPECT_TRUE(contains(encodeError(R"({"MemoData":"GG"})"), "even-length hex"));
  EXPECT_TRUE(contains(encodeError(R"({"InvoiceID":"00"})"), "64 hex digits"));
  EXPECT_TRUE(contains(encodeError(R"({"Paths":[]})"), "PathSet is not supported"));
  EXPECT_TRUE(contains(encodeError(R"({"Memos":{}})"), "expected an array"));
  EXPECT_TRUE(contains(encodeError(R"({"Memos":[{"Memo":{},"X":{}}]})"), "exactly one member"));
  EXPECT_TRUE(contains(encodeError(R"({"Memos":[{"Account":{}}]})"), "not an object field"));
  EXPECT_TRUE(contains(encodeError(R"({"Memos":[{"Memo":[]}]})"), "expected an object"));
  EXPECT_TRUE(contains(encodeError(R"({"FinalFields":[]})"), "expected an object"));
  EXPECT_TRUE(contains(encodeError(R"({"ObjectEndMarker":{}})"), "end markers"));
  EXPECT_TRUE(contains(encodeError(R"({"Sequence":1,"Sequence":2})"), "more than once"));
  EXPECT_TRUE(contains(encodeError(R"({"OwnerNode":"12345678901234567"})"), "1 to 16 hex"));
  EXPECT_TRUE(contains(encodeError(R"([])"), "expected a JSON object"));
  // Known but never-serialized names are skipped, like rippled's JSON-only fields.
  EXPECT_EQ(encodeHex(R"({"hash":"00","Sequence":1})"), "2400000001");
  // Nesting limit.
  std::string deep = "{\"Sequence\":1}";
  for (int i = 0; i < ledger::kMaxDepth + 1; ++i) deep = R"({"FinalFields":)" + deep + "}";
  EXPECT_TRUE(contains(encodeError(deep), "nesting deeper"));
}

TEST(Codec, DecodeErrors) {
  EXPECT_TRUE(contains(decodeError("24000000"), "truncated"));          // short UInt32
  EXPECT_TRUE(contains(decodeError("2400000001FF"), "unknown field"));  // unknown field 15/15
  EXPECT_TRUE(contains(decodeError("2200000001240000"), "truncated"));
  EXPECT_TRUE(contains(decodeError("24000000012200000000"), "canonical order"));  // Flags after Sequence
  EXPECT_TRUE(contains(decodeError("24000000012400000001"), "canonical order"));  // repeated
  EXPECT_TRUE(contains(decodeError("E1"), "unexpected object end marker"));
  EXPECT_TRUE(contains(decodeError("F1"), "unexpected array end marker"));
  EXPECT_TRUE(contains(decodeError("0002"), "non-canonical field header"));  // type 2 in extended form
  EXPECT_TRUE(contains(decodeError("2004"), "non-canonical field header"));  // field 4 in extended form
  EXPECT_TRUE(contains(decodeError("20"), "truncated field header"));
  EXPECT_TRUE(contains(decodeError("1200FF"), "unknown TransactionType code 255"));
  EXPECT_TRUE(contains(decodeError("0310FF"), "unknown TransactionResult"));
  EXPECT_TRUE(contains(decodeError("7D05AA"), "truncated"));  // VL longer than data
  EXPECT_TRUE(contains(decodeError("7DFF"), "invalid length prefix"));
  EXPECT_TRUE(contains(decodeError("7DC1"), "truncated length prefix"));
  EXPECT_TRUE(contains(decodeError("8113" + std::string(38, '0')), "expected 20"));
  EXPECT_TRUE(contains(decodeError("610000000000000000"), "non-canonical XRP zero"));
  EXPECT_TRUE(contains(decodeError("61416345785D8A0001"), "out of range"));
  EXPECT_TRUE(contains(decodeError("616000000000000001" + std::string(64, '0')), "MPT"));
  // Issued amount with mantissa below 10^15.
  EXPECT_TRUE(
      contains(decodeError("61D480000000000001" + std::string("0000000000000000000000005553440000000000") +
                           std::string(40, '0')),
               "non-canonical issued amount"));
  // Issued amount with the XRP currency.
  EXPECT_TRUE(contains(decodeError("61D4838D7EA4C68000" + std::string(80, '0')), "XRP currency"));
  EXPECT_TRUE(contains(decodeError("0112" + std::string(40, '0')), "unsupported type PathSet"));
  EXPECT_TRUE(contains(decodeError("EEE1"), "unknown field"));  // STObject field 14 does not exist
  EXPECT_TRUE(contains(decodeError("F9EA"), "truncated"));      // unterminated array
  EXPECT_TRUE(contains(decodeError("F981"), "not an object field"));
  EXPECT_TRUE(contains(decodeError("F9EAF1"), "unexpected array end marker"));
  std::string deep;
  for (int i = 0; i <= ledger::kMaxDepth; ++i) deep += "E7";  // nested ModifiedNode objects
  EXPECT_TRUE(contains(decodeError(deep), "nesting deeper"));
  EXPECT_EQ(decodeError("FF").code, "temMALFORMED");
  // Empty input decodes to an empty object.
  auto empty = ledger::decode({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->MemberCount(), 0u);
}

TEST(Definitions, NamesAndCodes) {
  EXPECT_EQ(ledger::transactionTypeCode("Payment"), ledger::txtype::kPayment);
  EXPECT_EQ(ledger::transactionTypeCode("AccountSet"), ledger::txtype::kAccountSet);
  EXPECT_STREQ(ledger::transactionTypeName(ledger::txtype::kTrustSet), "TrustSet");
  EXPECT_EQ(ledger::transactionTypeName(60000), nullptr);
  EXPECT_FALSE(ledger::transactionTypeCode("Nope").has_value());
  EXPECT_EQ(ledger::ledgerEntryTypeCode("AccountRoot"), ledger::entrytype::kAccountRoot);
  EXPECT_STREQ(ledger::ledgerEntryTypeName(ledger::entrytype::kRippleState), "RippleState");
  struct R {
    const char* name;
    int code;
  } results[] = {{"tesSUCCESS", ledger::ter::kTesSuccess},
                 {"tecUNFUNDED_PAYMENT", ledger::ter::kTecUnfundedPayment},
                 {"tecNO_DST_INSUF_XRP", ledger::ter::kTecNoDstInsufXrp},
                 {"tecNO_DST", ledger::ter::kTecNoDst},
                 {"tecINSUFFICIENT_RESERVE", ledger::ter::kTecInsufficientReserve},
                 {"tecDST_TAG_NEEDED", ledger::ter::kTecDstTagNeeded},
                 {"tefPAST_SEQ", ledger::ter::kTefPastSeq},
                 {"tefMAX_LEDGER", ledger::ter::kTefMaxLedger},
                 {"tefBAD_AUTH", ledger::ter::kTefBadAuth},
                 {"temMALFORMED", ledger::ter::kTemMalformed},
                 {"temBAD_AMOUNT", ledger::ter::kTemBadAmount},
                 {"temBAD_FEE", ledger::ter::kTemBadFee},
                 {"temBAD_SIGNATURE", ledger::ter::kTemBadSignature},
                 {"temREDUNDANT", ledger::ter::kTemRedundant},
                 {"temDST_IS_SRC", ledger::ter::kTemDstIsSrc},
                 {"terPRE_SEQ", ledger::ter::kTerPreSeq},
                 {"terNO_ACCOUNT", ledger::ter::kTerNoAccount},
                 {"terINSUF_FEE_B", ledger::ter::kTerInsufFeeB},
                 {"telINSUF_FEE_P", ledger::ter::kTelInsufFeeP}};
  for (const auto& r : results) {
    EXPECT_EQ(ledger::transactionResultCode(r.name), r.code) << r.name;
    EXPECT_STREQ(ledger::transactionResultName(r.code), r.name);
  }
  const auto* f = ledger::fieldByName("LastLedgerSequence");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->typeCode, 2);
  EXPECT_EQ(f->fieldCode, 27);
  EXPECT_EQ(ledger::fieldById(2, 27), f);
  EXPECT_FALSE(ledger::fieldByName("TxnSignature")->isSigningField);
  EXPECT_TRUE(ledger::fieldByName("SigningPubKey")->isSigningField);
  EXPECT_EQ(ledger::fieldByName("delivered_amount"), nullptr);
  EXPECT_EQ(ledger::fieldById(0, 0), nullptr);
  EXPECT_EQ(ledger::fieldById(1000, 1), nullptr);
  EXPECT_STREQ(ledger::typeName(8), "AccountID");
}
