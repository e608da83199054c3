# m2mdm_component(NAME [DEPS targets...] [PRIVATE_DEPS targets...])
# One library per folder: headers in <folder>/include/m2mdm/<NAME>/ (the public API, installed),
# sources in <folder>/src/ (private). <folder>/internal/m2mdm/<NAME>/ holds headers that other
# components of this build and the tests use but integrators never need: they are on the include
# path in the build tree only and are not installed, so no installed header may include them.
# Sources are globbed (CONFIGURE_DEPENDS) so that adding a file needs no CMake edit.
function(m2mdm_component NAME)
  cmake_parse_arguments(ARG "" "" "DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE _srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/src/*.cpp")
  file(GLOB_RECURSE _hdrs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/include/*.hpp"
                                              "${CMAKE_CURRENT_SOURCE_DIR}/internal/*.hpp")
  add_library(m2mdm_${NAME} STATIC ${_srcs} ${_hdrs})
  add_library(m2mdm::${NAME} ALIAS m2mdm_${NAME})
  target_include_directories(m2mdm_${NAME}
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  if(IS_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/internal")
    target_include_directories(m2mdm_${NAME} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/internal>)
  endif()
  target_link_libraries(m2mdm_${NAME} PUBLIC ${ARG_DEPS} PRIVATE m2mdm_options ${ARG_PRIVATE_DEPS})
  # The public headers need C++23 (std::expected): said on the target, so integrators get it too.
  target_compile_features(m2mdm_${NAME} PUBLIC cxx_std_23)
  set_target_properties(m2mdm_${NAME} PROPERTIES EXPORT_NAME ${NAME})
  install(TARGETS m2mdm_${NAME} EXPORT m2mdmTargets ARCHIVE DESTINATION lib COMPONENT dev)
  install(DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/include/ DESTINATION include COMPONENT dev)
  # With M2MDM_AGENT_STATIC, the libraries m2mdm-device links are built a second time for it
  # alone (m2mdm_<NAME>_agent): optimised for size, one section per function and object, so that
  # the agent has fewer code pages to map (issue 13, docs/benchmarks.md). Every other program
  # keeps the -O3 library above.
  if(M2MDM_AGENT_STATIC AND NAME MATCHES "^(syncml|mo|bootstrap|client)$")
    string(REGEX REPLACE "m2mdm::(syncml|mo|bootstrap|client)" "m2mdm_\\1_agent" _agent_deps "${ARG_DEPS}")
    add_library(m2mdm_${NAME}_agent STATIC EXCLUDE_FROM_ALL ${_srcs})
    target_include_directories(m2mdm_${NAME}_agent
      PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    if(IS_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}/internal")
      target_include_directories(m2mdm_${NAME}_agent PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/internal)
    endif()
    target_link_libraries(m2mdm_${NAME}_agent PUBLIC ${_agent_deps} PRIVATE m2mdm_options ${ARG_PRIVATE_DEPS})
    target_compile_features(m2mdm_${NAME}_agent PUBLIC cxx_std_23)
    target_compile_options(m2mdm_${NAME}_agent PRIVATE -Os -ffunction-sections -fdata-sections)
  endif()
endfunction()

# m2mdm_cli_part(NAME [DEPS ...]): the command-line part a component contributes to `m2mdm`
# (sources in <folder>/cli/). Kept out of the library so that integrators never link CLI11.
function(m2mdm_cli_part NAME)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB _srcs CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/cli/*.cpp")
  add_library(m2mdm_${NAME}_cli STATIC ${_srcs})
  target_include_directories(m2mdm_${NAME}_cli PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/cli)
  target_link_libraries(m2mdm_${NAME}_cli PUBLIC CLI11::CLI11 ${ARG_DEPS} PRIVATE m2mdm_options)
endfunction()
