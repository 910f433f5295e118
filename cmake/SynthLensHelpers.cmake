# synthlens_add_library(NAME <name> SRCS ... [PUBLIC_LINK ...] [PRIVATE_LINK ...])
# One static library per core folder; include paths are rooted at the repository so headers read
# "core/util/check.h".
function(synthlens_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;PUBLIC_LINK;PRIVATE_LINK" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_LINK} PRIVATE ${ARG_PRIVATE_LINK})
  target_compile_options(${ARG_NAME} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  set_target_properties(${ARG_NAME} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# synthlens_add_test(NAME <folder/name> SRCS ... [LINK ...] [LABELS ...] [DEPENDS ...])
# Registers a gtest binary as ctest test "<folder>/<name>" so `ctest -R augment/` runs one area.
# DEPENDS names targets the test runs (e.g. the synthlens binary of end-to-end tests).
function(synthlens_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;LINK;LABELS;DEPENDS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  string(REPLACE "/" "_" target ${ARG_NAME})
  add_executable(${target} ${ARG_SRCS})
  target_link_libraries(${target} PRIVATE ${ARG_LINK} synthlens_test_main)
  target_compile_options(${target} PRIVATE -Wall -Wno-unused-parameter)
  add_test(NAME ${ARG_NAME} COMMAND ${target})
  if(ARG_DEPENDS)
    add_dependencies(${target} ${ARG_DEPENDS})
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES
    ENVIRONMENT "SYNTHLENS_TEST_DATA=${PROJECT_SOURCE_DIR}/tests/data;SYNTHLENS_BIN_DIR=${PROJECT_BINARY_DIR}/app;QT_QPA_PLATFORM=offscreen")
  if(ARG_LABELS)
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()
