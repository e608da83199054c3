/// @file status.hpp
/// @brief SyncML response status codes (DM_RepPro 1.2 §10 "Response Status Codes").
///
/// Protocol outcomes are data: operations on the DM tree and in the session engines return one
/// of these, never an exception or an error_code.
#pragma once

#include <cstdint>
#include <string_view>

namespace m2mdm::syncml {

/// A SyncML status code. Only the codes OMA DM 1.2 uses are named; any uint16 value can be held.
enum class StatusCode : std::uint16_t {
  InProgress = 101,                      ///< the command is accepted and still being processed
  Ok = 200,                              ///< the command completed
  AcceptedForProcessing = 202,           ///< accepted; the outcome comes later (an Exec answered by a Generic Alert)
  NonAuthoritativeResponse = 203,        ///< completed, but the answer may not be the authoritative copy
  NoContent = 204,                       ///< completed; there is no data to return
  ResetContent = 205,                    ///< completed; the originator should refresh what it shows
  PartialContent = 206,                  ///< only part of the command was completed
  ConflictResolvedWithMerge = 207,       ///< a conflict was resolved by merging both versions (DS heritage)
  ConflictResolvedClientWins = 208,      ///< a conflict was resolved in favour of the client's command
  ConflictResolvedWithDuplicate = 209,   ///< a conflict was resolved by keeping a duplicate
  DeleteWithoutArchive = 210,            ///< deleted, but not archived first
  ItemNotDeleted = 211,                  ///< nothing was deleted: the item was not found
  AuthenticationAccepted = 212,          ///< the credentials hold for the rest of the session (only in answer to Cred)
  ChunkedItemAccepted = 213,             ///< a <MoreData/> chunk was buffered; send the next one (DM_RepPro 1.2 §7)
  OperationCancelled = 214,              ///< completed, and no further command will be processed in the session
  NotExecuted = 215,                     ///< not executed: the user, asked, declined it
  AtomicRollBackOk = 216,                ///< the Atomic this command was in failed; this command was rolled back
  MultipleChoices = 300,                 ///< the target is one of several alternatives
  MovedPermanently = 301,                ///< the target has a new permanent address
  Found = 302,                           ///< the target is temporarily at another address
  SeeOther = 303,                        ///< the result is at another address
  NotModified = 304,                     ///< the target was not modified
  UseProxy = 305,                        ///< the target must be reached through a proxy
  BadRequest = 400,                      ///< the command is malformed and was not executed
  InvalidCredentials = 401,              ///< the credentials given were refused
  PaymentRequired = 402,                 ///< payment is needed first
  Forbidden = 403,                       ///< understood but refused; repeating it will not help
  NotFound = 404,                        ///< the target does not exist
  CommandNotAllowed = 405,               ///< the command is not allowed on the target (AccessType, or a permanent node)
  OptionalFeatureNotSupported = 406,     ///< the command uses a feature the recipient does not support
  MissingCredentials = 407,              ///< authentication is required; the Status carries a Chal
  RequestTimeout = 408,                  ///< the recipient gave up waiting for the command
  Conflict = 409,                        ///< the command conflicts with the target's current state
  Gone = 410,                            ///< the target is no longer there and will not be again
  SizeRequired = 411,                    ///< a chunked object's first chunk must carry Meta/Size
  IncompleteCommand = 412,               ///< a required element of the command is missing
  RequestEntityTooLarge = 413,           ///< the data is larger than the recipient accepts
  UriTooLong = 414,                      ///< the target URI is longer than the recipient accepts
  UnsupportedMediaType = 415,            ///< the data's Format or Type is not supported
  RequestedSizeTooBig = 416,             ///< the announced Meta/Size is more than the recipient can take
  RetryLater = 417,                      ///< the recipient is busy; try again later
  AlreadyExists = 418,                   ///< an Add named a node that already exists
  ConflictResolvedWithServerData = 419,  ///< a conflict was resolved with the server's data
  DeviceFull = 420,                      ///< no room left on the device
  UnknownSearchGrammar = 421,            ///< the search grammar is not known
  BadCgiScript = 422,                    ///< the search script is malformed
  SoftDeleteConflict = 423,              ///< a soft-delete conflicts with the target
  SizeMismatch = 424,                    ///< the reassembled chunks do not add up to the announced Meta/Size
  PermissionDenied = 425,                ///< the ACL does not grant the originator this command on the target
  PartialItemNotAccepted = 426,          ///< a chunk was not accepted: the whole item must be sent again
  ItemNotEmpty = 427,                    ///< a Delete of an interior node that still has children
  MoveFailed = 428,                      ///< a Move could not be completed
  CommandFailed = 500,                   ///< the recipient failed to execute a valid command
  CommandNotImplemented = 501,           ///< the recipient does not implement the command
  BadGateway = 502,                      ///< a gateway got an invalid answer upstream
  ServiceUnavailable = 503,              ///< the recipient is overloaded or down for maintenance
  GatewayTimeout = 504,                  ///< a gateway got no answer upstream in time
  DtdVersionNotSupported = 505,          ///< the VerDTD is not supported
  ProcessingError = 506,                 ///< an application error while processing the command
  AtomicFailed = 507,                    ///< an Atomic command failed as a whole
  RefreshRequired = 508,                 ///< the originator must start over from a full refresh
  DataStoreFailure = 510,                ///< the recipient's data store failed
  ServerFailure = 511,                   ///< the server failed while processing the command
  SynchronizationFailed = 512,           ///< the session failed as a whole
  ProtocolVersionNotSupported = 513,     ///< the VerProto is not supported
  OperationCancelledFailed = 514,        ///< not done: the operation was cancelled first; repeat it next session
  AtomicRollBackFailed = 516,            ///< the Atomic failed and rolling this command back failed too
  AtomicResponseTooLargeToFit = 517,     ///< the answers to an Atomic do not fit in one message
};

/// The numeric value.
constexpr std::uint16_t code(StatusCode s) noexcept { return static_cast<std::uint16_t>(s); }
/// True for 2xx codes.
constexpr bool is_success(StatusCode s) noexcept { return code(s) >= 200 && code(s) < 300; }

/// Alert codes (DM_RepPro 1.2 §8.1 / DM_Protocol 1.2 §8.7).
enum class AlertCode : std::uint16_t {
  Display = 1100,              ///< show text to the user (DM_Protocol 1.2 §10)
  ConfirmOrReject = 1101,      ///< ask the user to confirm; 304 Not Modified on reject
  TextInput = 1102,            ///< ask the user for text
  SingleChoice = 1103,         ///< ask the user to pick one item
  MultipleChoice = 1104,       ///< ask the user to pick several items
  ServerInitiatedMgmt = 1200,  ///< session started by the server (after a package 0)
  ClientInitiatedMgmt = 1201,  ///< session started by the client
  NextMessage = 1222,          ///< more of the package is wanted: send the next message
  SessionAbort = 1223,         ///< the sender ends the session now
  ClientEvent = 1224,          ///< a client event is reported
  NoEndOfData = 1225,          ///< a chunked object ended without its last chunk (DM_RepPro 1.2 §7)
  GenericAlert = 1226,         ///< Generic Alert: an asynchronous result or event (DM_Protocol 1.2 §8.7)
};

constexpr std::uint16_t code(AlertCode a) noexcept { return static_cast<std::uint16_t>(a); }

}  // namespace m2mdm::syncml
