# Install + export so integrators can find_package(m2mdm) and link m2mdm::client etc.
include(CMakePackageConfigHelpers)
install(TARGETS m2mdm_options m2mdm_wbxml2 m2mdm_beast EXPORT m2mdmTargets COMPONENT dev)
install(EXPORT m2mdmTargets NAMESPACE m2mdm:: DESTINATION lib/cmake/m2mdm COMPONENT dev)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/m2mdmConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/m2mdmConfig.cmake INSTALL_DESTINATION lib/cmake/m2mdm)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/m2mdmConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/m2mdmConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/m2mdmConfigVersion.cmake
  DESTINATION lib/cmake/m2mdm COMPONENT dev)
