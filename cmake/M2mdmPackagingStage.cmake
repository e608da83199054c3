# CPack pre-build script of cmake/M2mdmPackaging.cmake: in each component's staging tree, the
# configuration installed below the prefix (usr/etc/m2mdm) moves to /etc, where dpkg keeps
# conffiles. `cmake --install --prefix DIR` keeps DIR/etc (it never writes to the real /etc).
foreach(_component IN LISTS CPACK_COMPONENTS_ALL)
  set(_root "${CPACK_TEMPORARY_DIRECTORY}/${_component}")
  set(_etc "${_root}${CPACK_PACKAGING_INSTALL_PREFIX}/etc")
  if(IS_DIRECTORY "${_etc}" AND NOT CPACK_PACKAGING_INSTALL_PREFIX STREQUAL "/")
    if(EXISTS "${_root}/etc")
      message(FATAL_ERROR "M2mdmPackagingStage: ${_root}/etc exists already")
    endif()
    file(RENAME "${_etc}" "${_root}/etc")
  endif()
endforeach()
