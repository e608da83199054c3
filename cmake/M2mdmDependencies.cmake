# Every third-party dependency, found once for the whole tree.
find_package(PkgConfig REQUIRED)
find_package(LibXml2 REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(Boost 1.74 REQUIRED)          # header-only use: Beast and Asio
find_package(Threads REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(spdlog REQUIRED)
if(M2MDM_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(M2MDM_BUILD_BENCH AND NOT M2MDM_FUZZ)
  find_package(benchmark REQUIRED)
endif()

# libwbxml2 has no CMake package; Debian's libwbxml2.pc says "libdir=lib/x86_64-linux-gnu"
# (relative, no ${prefix}), so pkg-config hands us "-Llib/x86_64-linux-gnu" which points
# nowhere. We therefore take only the include directory from pkg-config and resolve the
# library itself with find_library, seeded with the multiarch directory the .pc file sits in
# and pkg-config's (possibly relative) libdir re-rooted on the prefix.
pkg_check_modules(PC_WBXML QUIET libwbxml2)
set(_wbxml_hints "")
if(PC_WBXML_FOUND)
  pkg_get_variable(_wbxml_prefix libwbxml2 prefix)
  pkg_get_variable(_wbxml_libdir libwbxml2 libdir)
  if(_wbxml_libdir AND NOT IS_ABSOLUTE "${_wbxml_libdir}")
    set(_wbxml_libdir "${_wbxml_prefix}/${_wbxml_libdir}")
  endif()
  list(APPEND _wbxml_hints "${_wbxml_libdir}")
endif()
find_path(WBXML_INCLUDE_DIR wbxml.h
  HINTS ${PC_WBXML_INCLUDEDIRS} PATH_SUFFIXES libwbxml-1.0/wbxml libwbxml-1.0)
find_library(WBXML_LIBRARY NAMES wbxml2 HINTS ${_wbxml_hints})
if(NOT WBXML_INCLUDE_DIR OR NOT WBXML_LIBRARY)
  message(FATAL_ERROR "libwbxml2 not found (Debian: apt-get install libwbxml2-dev)")
endif()
# wbxml.h includes its siblings as "wbxml_config.h", so the wbxml/ folder itself is the include dir.
add_library(m2mdm_wbxml2 INTERFACE)
target_include_directories(m2mdm_wbxml2 SYSTEM INTERFACE "${WBXML_INCLUDE_DIR}")
target_link_libraries(m2mdm_wbxml2 INTERFACE "${WBXML_LIBRARY}")
add_library(WBXML::wbxml2 ALIAS m2mdm_wbxml2)
message(STATUS "libwbxml2: ${WBXML_LIBRARY} (headers ${WBXML_INCLUDE_DIR})")

# OpenSSL and libxml2 as the libraries link them: the shared objects, or Debian's static archives
# for an executable whose M2MDM_STATIC_DEPS property is ON (m2mdm-device with M2MDM_AGENT_STATIC,
# issue 13: only the parts it uses are paged in). $<TARGET_PROPERTY:...> in a link interface is
# read on the executable being linked, so one build links the agent statically and the rest shared.
set(_static_deps "$<BOOL:$<TARGET_PROPERTY:M2MDM_STATIC_DEPS>>")
if(M2MDM_AGENT_STATIC)
  # libxml2.a needs ICU's converters, lzma and zlib. ICU's data comes static too: the shared
  # libicudata would be copied whole (~30 MB) into the agent's private memory at start by a copy
  # relocation (libicuuc.a's objects are not PIC); static, only the pages used are read, at the
  # price of ~30 MB more on disk (docs/benchmarks.md).
  set(_archives ssl crypto)
  if(M2MDM_AGENT_STATIC_XML2)
    list(APPEND _archives xml2 icuuc icudata lzma z)
  endif()
  foreach(_a IN LISTS _archives)
    find_library(M2MDM_STATIC_${_a} NAMES lib${_a}.a)
    if(NOT M2MDM_STATIC_${_a})
      message(FATAL_ERROR "M2MDM_AGENT_STATIC: lib${_a}.a not found (Debian: libssl-dev, libxml2-dev, libicu-dev, liblzma-dev, zlib1g-dev)")
    endif()
  endforeach()
  # The archives only in the build tree: the exported targets (libm2mdm-dev) name the shared ones.
  set(M2MDM_LINK_SSL "$<$<NOT:${_static_deps}>:OpenSSL::SSL>" "$<BUILD_INTERFACE:$<${_static_deps}:${M2MDM_STATIC_ssl}>>")
  set(M2MDM_LINK_CRYPTO "$<$<NOT:${_static_deps}>:OpenSSL::Crypto>"
      "$<BUILD_INTERFACE:$<${_static_deps}:${M2MDM_STATIC_crypto}>>")
  if(M2MDM_AGENT_STATIC_XML2)
    set(M2MDM_LINK_XML2 "$<$<NOT:${_static_deps}>:LibXml2::LibXml2>"
        "$<BUILD_INTERFACE:$<${_static_deps}:${M2MDM_STATIC_xml2};${M2MDM_STATIC_icuuc};${M2MDM_STATIC_icudata};${M2MDM_STATIC_lzma};${M2MDM_STATIC_z};m;dl>>")
  else()
    # libxml2 (and the ICU it loads) shared: a binary of a few MB instead of ~42 MB.
    set(M2MDM_LINK_XML2 LibXml2::LibXml2)
  endif()
else()
  set(M2MDM_LINK_SSL OpenSSL::SSL)
  set(M2MDM_LINK_CRYPTO OpenSSL::Crypto)
  set(M2MDM_LINK_XML2 LibXml2::LibXml2)
endif()

# Boost.Asio/Beast in header-only mode, with OpenSSL for TLS.
add_library(m2mdm_beast INTERFACE)
target_link_libraries(m2mdm_beast INTERFACE Boost::headers ${M2MDM_LINK_SSL} ${M2MDM_LINK_CRYPTO} Threads::Threads)
target_compile_definitions(m2mdm_beast INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
add_library(m2mdm::beast ALIAS m2mdm_beast)
