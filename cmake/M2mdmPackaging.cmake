# Debian packages (docs/packaging.md): `cmake --build --preset release --target package` (or
# `cpack` in any build tree) writes three .debs from the install components:
#   server -> m2mdm-server   `m2mdm`, m2mdm.service, /etc/m2mdm/server.toml, man pages, bash completion
#   device -> m2mdm-device   `m2mdm-device`, m2mdm-device.service, example device.env, man page
#   dev    -> libm2mdm-dev   static libraries, public headers, CMake package, m2mdm-client.pc
# The assets are in packaging/. Every destination is relative to the install prefix, so that
# `cmake --install BUILD --prefix DIR` never writes outside DIR; the packages use the prefix /usr
# and a pre-build step moves usr/etc to /etc (cmake/M2mdmPackagingStage.cmake).
set(_pkg "${PROJECT_SOURCE_DIR}/packaging")
set(_gen "${PROJECT_BINARY_DIR}/packaging")

# --- m2mdm-server ---------------------------------------------------------------------------
install(FILES "${_pkg}/systemd/m2mdm.service" DESTINATION lib/systemd/system COMPONENT server)
install(FILES "${_pkg}/sysusers/m2mdm.conf" DESTINATION lib/sysusers.d RENAME m2mdm-server.conf COMPONENT server)
install(FILES "${_pkg}/config/server.toml" DESTINATION etc/m2mdm COMPONENT server)
install(FILES "${_pkg}/bash-completion/m2mdm" DESTINATION share/bash-completion/completions COMPONENT server)

# --- m2mdm-device ---------------------------------------------------------------------------
# The unit is docs/examples/m2mdm-device.service (the one the docs show) with the packaged path of
# the binary and a header of its own.
file(READ "${PROJECT_SOURCE_DIR}/docs/examples/m2mdm-device.service" _unit)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/docs/examples/m2mdm-device.service")
string(REGEX REPLACE "^(#[^\n]*\n)+" "" _unit "${_unit}")
string(REPLACE "/usr/local/bin/m2mdm-device" "/usr/bin/m2mdm-device" _unit "${_unit}")
file(WRITE "${_gen}/m2mdm-device.service"
  "# systemd unit of the m2mdm device agent (package m2mdm-device; docs/packaging.md), from\n"
  "# docs/examples/m2mdm-device.service. Before `systemctl enable --now m2mdm-device`: the TRE in\n"
  "# /var/lib/m2mdm-device/tre (platform key + PfC from the factory), the SHO CA(s) in\n"
  "# /etc/m2mdm/sho-ca.pem, the DM server's TLS CA(s) in /etc/m2mdm/dm-ca.pem and the PIN in\n"
  "# /etc/m2mdm/device.env (example: /usr/share/doc/m2mdm-device/examples/device.env).\n"
  "${_unit}")
install(FILES "${_gen}/m2mdm-device.service" DESTINATION lib/systemd/system COMPONENT device)
install(FILES "${_pkg}/sysusers/m2mdm.conf" DESTINATION lib/sysusers.d RENAME m2mdm-device.conf COMPONENT device)
install(FILES "${_pkg}/config/device.env" DESTINATION share/doc/m2mdm-device/examples COMPONENT device)
install(FILES "${_pkg}/bash-completion/m2mdm" DESTINATION share/bash-completion/completions
        RENAME m2mdm-device COMPONENT device)

# --- man pages, from --help at build time (help2man) -----------------------------------------
find_program(M2MDM_HELP2MAN help2man)
if(M2MDM_HELP2MAN AND TARGET m2mdm-device)
  set(_man "${PROJECT_BINARY_DIR}/man")
  add_custom_command(OUTPUT "${_man}/pages.stamp"
    COMMAND bash "${_pkg}/man/make-man-pages.sh" $<TARGET_FILE:m2mdm> $<TARGET_FILE:m2mdm-device> "${_man}"
            "${PROJECT_VERSION}"
    COMMAND "${CMAKE_COMMAND}" -E touch "${_man}/pages.stamp"
    DEPENDS m2mdm m2mdm-device "${_pkg}/man/make-man-pages.sh" "${_pkg}/man/m2mdm-server.h2m"
            "${_pkg}/man/m2mdm-device.h2m"
    COMMENT "Man pages of m2mdm and m2mdm-device from their --help (help2man)" VERBATIM)
  add_custom_target(m2mdm_man_pages ALL DEPENDS "${_man}/pages.stamp")
  install(DIRECTORY "${_man}/server/" DESTINATION share/man/man1 COMPONENT server)
  install(DIRECTORY "${_man}/device/" DESTINATION share/man/man1 COMPONENT device)
else()
  message(WARNING "help2man not found: no man pages in the install tree or the packages "
                  "(Debian: apt-get install help2man; scripts/install-deps.sh installs it)")
endif()

# --- libm2mdm-dev: pkg-config file of the client library -------------------------------------
# Written at install time, so that its prefix is the real one (/usr in the package, DIR for
# `cmake --install --prefix DIR`). A sanitized build's libraries need the sanitizer runtimes.
set(M2MDM_PC_PREFIX "@M2MDM_PC_PREFIX@")  # filled in at install time
set(M2MDM_PC_LIBDIR lib)
set(M2MDM_PC_INCLUDEDIR include)
set(M2MDM_PC_LIBS_PRIVATE_EXTRA "")
if(M2MDM_SANITIZE)
  set(M2MDM_PC_LIBS_PRIVATE_EXTRA " -fsanitize=address,undefined")
endif()
configure_file("${_pkg}/pkgconfig/m2mdm-client.pc.in" "${_gen}/m2mdm-client.pc.in" @ONLY)
install(CODE "
  set(M2MDM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  string(MD5 _m2mdm_pc_dir \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${_gen}/m2mdm-client.pc.in\" \"${_gen}/\${_m2mdm_pc_dir}/m2mdm-client.pc\" @ONLY)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/pkgconfig\" TYPE FILE
       FILES \"${_gen}/\${_m2mdm_pc_dir}/m2mdm-client.pc\")" COMPONENT dev)

# --- libm2mdm-dev: static libraries without debug sections when stripping ---------------------
# `cmake --install --strip` and CPack (CPACK_STRIP_FILES) strip executables only; Debian strips
# the debug sections of static libraries too (dh_strip: strip --strip-debug), which keeps the
# symbols a link needs. Runs after the libraries' own install rules (CMP0082: declaration order).
if(CMAKE_STRIP)
  install(CODE "
    if(CMAKE_INSTALL_DO_STRIP)
      file(GLOB _m2mdm_static_libs \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/libm2mdm_*.a\")
      foreach(_lib IN LISTS _m2mdm_static_libs)
        execute_process(COMMAND \"${CMAKE_STRIP}\" --strip-debug --remove-section=.comment \"\${_lib}\"
                        RESULT_VARIABLE _rc)
        if(NOT _rc EQUAL 0)
          message(FATAL_ERROR \"strip --strip-debug \${_lib} failed: \${_rc}\")
        endif()
      endforeach()
    endif()" COMPONENT dev)
endif()

# --- CPack: the three .debs --------------------------------------------------------------------
set(M2MDM_PACKAGE_MAINTAINER "m2mdm maintainers <m2mdm@invalid.example>" CACHE STRING
    "Maintainer field of the .debs")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME m2mdm)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR m2mdm)
set(CPACK_PACKAGE_CONTACT "${M2MDM_PACKAGE_MAINTAINER}")
# Left at CPack's own default: CPackDeb then prepends nothing, and the first line of each
# component's description below is its package's summary.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
# Install with DESTDIR under the real prefix /usr: the pkg-config file then says prefix=/usr.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PRE_BUILD_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/M2mdmPackagingStage.cmake")
set(CPACK_COMPONENTS_ALL server device dev)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # <name>_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)  # maintainer scripts 0755, conffiles 0644

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME m2mdm-server)
set(CPACK_DEBIAN_SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_SERVER_PACKAGE_SHLIBDEPS ON)      # dpkg-shlibdeps: libssl3, libsqlite3-0, libxml2, ...
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser | systemd")
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "m2mdm-device")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${_pkg}/debian/server/postinst;${_pkg}/debian/server/prerm;${_pkg}/debian/server/postrm;${_pkg}/debian/server/conffiles")
string(JOIN "\n" CPACK_COMPONENT_SERVER_DESCRIPTION
    "m2mdm RO server: OMA DM DPF, DRF, ICF and PVA for MCIM provisioning"
    "The `m2mdm` command: `m2mdm server` is the Registration Operator of 3GPP TR 33.812 (OMA DM 1.2"
    "endpoint, REST API, /metrics, /healthz, SQLite store), with the operator's CLI, the test PKI"
    "and conformance tools. Ships the systemd unit m2mdm.service (user m2mdm, hardened),"
    "/etc/m2mdm/server.toml, man pages and bash completion.")

set(CPACK_DEBIAN_DEVICE_PACKAGE_NAME m2mdm-device)
set(CPACK_DEBIAN_DEVICE_PACKAGE_SECTION net)
set(CPACK_DEBIAN_DEVICE_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEVICE_PACKAGE_DEPENDS "adduser | systemd")
set(CPACK_DEBIAN_DEVICE_PACKAGE_CONTROL_EXTRA
    "${_pkg}/debian/device/postinst;${_pkg}/debian/device/prerm;${_pkg}/debian/device/postrm")
string(JOIN "\n" CPACK_COMPONENT_DEVICE_DESCRIPTION
    "m2mdm device agent: OMA DM client that receives MCIMs (3GPP TR 33.812)"
    "The `m2mdm-device` agent: bootstrap over WAP push, DM sessions with the DPF, MCIM install"
    "into a software TRE. Ships the systemd unit m2mdm-device.service, an example device.env,"
    "its man page and bash completion.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libm2mdm-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# What m2mdmConfig.cmake finds (find_dependency) and what the static libraries link.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libssl-dev (>= 3.0), libxml2-dev, libwbxml2-dev, libsqlite3-dev, libboost-dev (>= 1.74), nlohmann-json3-dev, libspdlog-dev, libtomlplusplus-dev, pkg-config")
string(JOIN "\n" CPACK_COMPONENT_DEV_DESCRIPTION
    "m2mdm libraries for device makers: embed the OMA DM client (static)"
    "Static libraries (client, bootstrap, mo, syncml, server), their public headers, the CMake"
    "package (find_package(m2mdm), targets m2mdm::client ...) and the pkg-config file"
    "m2mdm-client.pc, to put the M2ME side of 3GPP TR 33.812 into a product.")

include(CPack)
