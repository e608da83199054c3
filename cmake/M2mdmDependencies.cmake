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

# Boost.Asio/Beast in header-only mode, with OpenSSL for TLS.
add_library(m2mdm_beast INTERFACE)
target_link_libraries(m2mdm_beast INTERFACE Boost::headers OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(m2mdm_beast INTERFACE BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
add_library(m2mdm::beast ALIAS m2mdm_beast)
