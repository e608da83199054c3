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
  InProgress = 101,
  Ok = 200,
  AcceptedForProcessing = 202,
  NonAuthoritativeResponse = 203,
  NoContent = 204,
  ResetContent = 205,
  PartialContent = 206,
  ConflictResolvedWithMerge = 207,
  ConflictResolvedClientWins = 208,
  ConflictResolvedWithDuplicate = 209,
  DeleteWithoutArchive = 210,
  ItemNotDeleted = 211,
  AuthenticationAccepted = 212,
  ChunkedItemAccepted = 213,
  OperationCancelled = 214,
  NotExecuted = 215,
  AtomicRollBackOk = 216,
  MultipleChoices = 300,
  MovedPermanently = 301,
  Found = 302,
  SeeOther = 303,
  NotModified = 304,
  UseProxy = 305,
  BadRequest = 400,
  InvalidCredentials = 401,
  PaymentRequired = 402,
  Forbidden = 403,
  NotFound = 404,
  CommandNotAllowed = 405,
  OptionalFeatureNotSupported = 406,
  MissingCredentials = 407,
  RequestTimeout = 408,
  Conflict = 409,
  Gone = 410,
  SizeRequired = 411,
  IncompleteCommand = 412,
  RequestEntityTooLarge = 413,
  UriTooLong = 414,
  UnsupportedMediaType = 415,
  RequestedSizeTooBig = 416,
  RetryLater = 417,
  AlreadyExists = 418,
  ConflictResolvedWithServerData = 419,
  DeviceFull = 420,
  UnknownSearchGrammar = 421,
  BadCgiScript = 422,
  SoftDeleteConflict = 423,
  SizeMismatch = 424,
  PermissionDenied = 425,
  PartialItemNotAccepted = 426,
  ItemNotEmpty = 427,
  MoveFailed = 428,
  CommandFailed = 500,
  CommandNotImplemented = 501,
  BadGateway = 502,
  ServiceUnavailable = 503,
  GatewayTimeout = 504,
  DtdVersionNotSupported = 505,
  ProcessingError = 506,
  AtomicFailed = 507,
  RefreshRequired = 508,
  DataStoreFailure = 510,
  ServerFailure = 511,
  SynchronizationFailed = 512,
  ProtocolVersionNotSupported = 513,
  OperationCancelledFailed = 514,
  AtomicRollBackFailed = 516,
  AtomicResponseTooLargeToFit = 517,
};

/// The numeric value.
constexpr std::uint16_t code(StatusCode s) noexcept { return static_cast<std::uint16_t>(s); }
/// True for 2xx codes.
constexpr bool is_success(StatusCode s) noexcept { return code(s) >= 200 && code(s) < 300; }

/// Alert codes (DM_RepPro 1.2 §8.1 / DM_Protocol 1.2 §8.7).
enum class AlertCode : std::uint16_t {
  Display = 1100,
  ConfirmOrReject = 1101,
  TextInput = 1102,
  SingleChoice = 1103,
  MultipleChoice = 1104,
  ServerInitiatedMgmt = 1200,
  ClientInitiatedMgmt = 1201,
  NextMessage = 1222,
  SessionAbort = 1223,
  ClientEvent = 1224,
  NoEndOfData = 1225,
  GenericAlert = 1226,
};

constexpr std::uint16_t code(AlertCode a) noexcept { return static_cast<std::uint16_t>(a); }

}  // namespace m2mdm::syncml
