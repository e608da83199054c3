# Compiler flags shared by every m2mdm target (added through the m2mdm_options interface target).
add_library(m2mdm_options INTERFACE)
target_compile_features(m2mdm_options INTERFACE cxx_std_23)
target_compile_options(m2mdm_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${M2MDM_WERROR}>:-Werror>)
if(M2MDM_SANITIZE)
  target_compile_options(m2mdm_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                         -fno-sanitize-recover=undefined)
  target_link_options(m2mdm_options INTERFACE -fsanitize=address,undefined)
endif()
if(M2MDM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "M2MDM_FUZZ needs clang (libFuzzer); use the 'fuzz' preset")
  endif()
  # Every library is built with coverage instrumentation; only tests/fuzz links the fuzzer main.
  target_compile_options(m2mdm_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                         -fno-omit-frame-pointer)
  target_link_options(m2mdm_options INTERFACE -fsanitize=address,undefined)
endif()
find_program(M2MDM_CCACHE ccache)
if(M2MDM_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${M2MDM_CCACHE}")
  set(CMAKE_C_COMPILER_LAUNCHER "${M2MDM_CCACHE}")
endif()
