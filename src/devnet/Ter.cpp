#include "sashimono/devnet/Ter.h"

namespace sashimono::devnet {

namespace {
struct Info {
  const char* name;
  const char* message;
};

Info info(Ter t) {
  switch (t) {
    case Ter::telINSUF_FEE_P:
      return {"telINSUF_FEE_P", "Fee insufficient."};
    case Ter::telWRONG_NETWORK:
      return {"telWRONG_NETWORK",
              "Transaction specifies a Network ID that differs from that of the local node."};
    case Ter::telREQUIRES_NETWORK_ID:
      return {"telREQUIRES_NETWORK_ID",
              "Transactions submitted to this node/network must include a correct NetworkID field."};
    case Ter::telNETWORK_ID_MAKES_TX_NON_CANONICAL:
      return {"telNETWORK_ID_MAKES_TX_NON_CANONICAL",
              "Transactions submitted to this node/network must NOT include a NetworkID field."};
    case Ter::temMALFORMED:
      return {"temMALFORMED", "Malformed transaction."};
    case Ter::temBAD_AMOUNT:
      return {"temBAD_AMOUNT", "Can only send positive amounts."};
    case Ter::temBAD_CURRENCY:
      return {"temBAD_CURRENCY", "Malformed: Bad currency."};
    case Ter::temBAD_FEE:
      return {"temBAD_FEE", "Invalid fee, negative or not XRP."};
    case Ter::temBAD_SIGNATURE:
      return {"temBAD_SIGNATURE", "Malformed: Bad signature."};
    case Ter::temBAD_SEND_XRP_MAX:
      return {"temBAD_SEND_XRP_MAX", "Malformed: Send max is not allowed for XRP to XRP."};
    case Ter::temBAD_SEND_XRP_PARTIAL:
      return {"temBAD_SEND_XRP_PARTIAL", "Malformed: Partial payment is not allowed for XRP to XRP."};
    case Ter::temDST_NEEDED:
      return {"temDST_NEEDED", "Destination not specified."};
    case Ter::temINVALID_FLAG:
      return {"temINVALID_FLAG", "The transaction has an invalid flag."};
    case Ter::temREDUNDANT:
      return {"temREDUNDANT", "The transaction is redundant."};
    case Ter::temDISABLED:
      return {"temDISABLED", "The transaction requires logic that is currently disabled."};
    case Ter::tefALREADY:
      return {"tefALREADY", "The exact transaction was already in this ledger."};
    case Ter::tefBAD_AUTH:
      return {"tefBAD_AUTH", "Transaction's public key is not authorized."};
    case Ter::tefPAST_SEQ:
      return {"tefPAST_SEQ", "This sequence number has already passed."};
    case Ter::tefMAX_LEDGER:
      return {"tefMAX_LEDGER", "Ledger sequence too high."};
    case Ter::tefNO_TICKET:
      return {"tefNO_TICKET", "Ticket is not in ledger."};
    case Ter::terINSUF_FEE_B:
      return {"terINSUF_FEE_B", "Account balance can't pay fee."};
    case Ter::terNO_ACCOUNT:
      return {"terNO_ACCOUNT", "The source account does not exist."};
    case Ter::terPRE_SEQ:
      return {"terPRE_SEQ", "Missing/inapplicable prior transaction."};
    case Ter::tesSUCCESS:
      return {"tesSUCCESS", "The transaction was applied. Only final in a validated ledger."};
    case Ter::tecUNFUNDED_PAYMENT:
      return {"tecUNFUNDED_PAYMENT", "Insufficient XRP balance to send."};
    case Ter::tecNO_DST_INSUF_XRP:
      return {"tecNO_DST_INSUF_XRP", "Destination does not exist. Too little XRP sent to create it."};
    case Ter::tecPATH_DRY:
      return {"tecPATH_DRY", "Path could not send partial amount."};
  }
  return {"tefFAILURE", "Failed to apply."};
}
}  // namespace

const char* terName(Ter t) { return info(t).name; }
const char* terMessage(Ter t) { return info(t).message; }

}  // namespace sashimono::devnet
