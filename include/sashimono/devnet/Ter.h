#pragma once
// Transaction engine results, named, numbered and described as rippled does ("tesSUCCESS", 0,
// "The transaction was applied. Only final in a validated ledger."). Only the results the
// devnet produces are listed.
#include <cstdint>

namespace sashimono::devnet {

enum class Ter : std::int16_t {
  telINSUF_FEE_P = -394,
  telWRONG_NETWORK = -386,
  telREQUIRES_NETWORK_ID = -385,
  telNETWORK_ID_MAKES_TX_NON_CANONICAL = -384,
  temMALFORMED = -299,
  temBAD_AMOUNT = -298,
  temBAD_CURRENCY = -297,
  temBAD_FEE = -295,
  temBAD_SIGNATURE = -282,
  temBAD_SEND_XRP_MAX = -287,
  temBAD_SEND_XRP_PARTIAL = -285,
  temDST_NEEDED = -278,
  temINVALID_FLAG = -276,
  temREDUNDANT = -275,
  temDISABLED = -273,
  tefALREADY = -198,
  tefBAD_AUTH = -196,
  tefPAST_SEQ = -190,
  tefMAX_LEDGER = -187,
  tefNO_TICKET = -180,
  terINSUF_FEE_B = -97,
  terNO_ACCOUNT = -96,
  terPRE_SEQ = -92,
  tesSUCCESS = 0,
  tecUNFUNDED_PAYMENT = 104,
  tecNO_DST_INSUF_XRP = 125,
  tecPATH_DRY = 128,
};

const char* terName(Ter t);
const char* terMessage(Ter t);
inline int terCode(Ter t) { return static_cast<int>(t); }
// tesSUCCESS and tec*: the transaction goes into the ledger and the fee is charged.
inline bool terClaimsFee(Ter t) { return terCode(t) >= 0; }

}  // namespace sashimono::devnet
