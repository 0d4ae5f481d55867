#include "sashimono/protocol/MessageType.h"

namespace sashimono::protocol {

std::string_view messageTypeName(MessageType t) {
  switch (t) {
    case MessageType::acquire:
      return "sashimono.acquire";
    case MessageType::extend:
      return "sashimono.extend";
    case MessageType::terminate:
      return "sashimono.terminate";
    case MessageType::cluster:
      return "sashimono.cluster";
    case MessageType::acquireOk:
      return "sashimono.acquire.ok";
    case MessageType::acquireError:
      return "sashimono.acquire.error";
    case MessageType::extendOk:
      return "sashimono.extend.ok";
    case MessageType::extendError:
      return "sashimono.extend.error";
    case MessageType::terminateOk:
      return "sashimono.terminate.ok";
    case MessageType::terminateError:
      return "sashimono.terminate.error";
    case MessageType::clusterOk:
      return "sashimono.cluster.ok";
    case MessageType::clusterError:
      return "sashimono.cluster.error";
    case MessageType::error:
      return "sashimono.error";
    case MessageType::expired:
      return "sashimono.expired";
    case MessageType::host:
      return "sashimono.host";
  }
  return "sashimono.error";
}

std::optional<MessageType> parseMessageType(std::string_view name) {
  for (MessageType t : kAllMessageTypes) {
    if (messageTypeName(t) == name) return t;
  }
  return std::nullopt;
}

bool isRequest(MessageType t) {
  return t == MessageType::acquire || t == MessageType::extend || t == MessageType::terminate ||
         t == MessageType::cluster;
}

bool isSealedReply(MessageType t) {
  return t == MessageType::acquireOk || t == MessageType::extendOk || t == MessageType::terminateOk ||
         t == MessageType::clusterOk;
}

MessageType okReplyFor(MessageType request) {
  switch (request) {
    case MessageType::acquire:
      return MessageType::acquireOk;
    case MessageType::extend:
      return MessageType::extendOk;
    case MessageType::terminate:
      return MessageType::terminateOk;
    case MessageType::cluster:
      return MessageType::clusterOk;
    default:
      return MessageType::error;
  }
}

MessageType errorReplyFor(MessageType request) {
  switch (request) {
    case MessageType::acquire:
      return MessageType::acquireError;
    case MessageType::extend:
      return MessageType::extendError;
    case MessageType::terminate:
      return MessageType::terminateError;
    case MessageType::cluster:
      return MessageType::clusterError;
    default:
      return MessageType::error;
  }
}

}  // namespace sashimono::protocol
