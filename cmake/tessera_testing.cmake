# Test registration helpers.
#   tessera_add_unit_test(<name> SOURCES ... [LIBS ...] [LABELS ...])
#       one doctest executable, each TEST_CASE registered as its own ctest test.
#   tessera_add_mpi_test(<name> SOURCES ... NPROCS 1 2 3 4 [LIBS ...])
#       one executable run under mpiexec at every rank count, with a hard ctest TIMEOUT.
find_package(doctest REQUIRED)
include(doctest)

if(NOT TARGET tessera_test_main)
  add_library(tessera_test_main OBJECT ${PROJECT_SOURCE_DIR}/tests/support/doctest_main.cpp)
  target_link_libraries(tessera_test_main PUBLIC doctest::doctest)
endif()

# LeakSanitizer suppressions for Open MPI's allocations kept until exit (see the file).
if(NOT TARGET tessera_sanitizer_mpi)
  add_library(tessera_sanitizer_mpi OBJECT ${PROJECT_SOURCE_DIR}/tests/support/sanitizer_mpi.cpp)
endif()

function(tessera_add_unit_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE tessera_test_main doctest::doctest tessera::tessera
                        ${ARG_LIBS} $<BUILD_INTERFACE:tessera::warnings>)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  # doctest.cmake (2.4.9) cannot pass a list of labels: every unit test gets the one label
  # "unit"; subsets are picked by test-name regex instead.
  doctest_discover_tests(${name} TEST_PREFIX "${name}." PROPERTIES TIMEOUT ${ARG_TIMEOUT}
                         LABELS unit)
endfunction()

function(tessera_add_mpi_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;NPROCS;LIBS;LABELS;ENV" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 180)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE doctest::doctest tessera::tessera ${ARG_LIBS}
                        tessera_sanitizer_mpi $<BUILD_INTERFACE:tessera::warnings>)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests)
  set_target_properties(${name} PROPERTIES ENABLE_EXPORTS ON)
  separate_arguments(_flags UNIX_COMMAND "${TESSERA_MPIEXEC_FLAGS}")
  foreach(np IN LISTS ARG_NPROCS)
    add_test(NAME ${name}.np${np}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} ${_flags}
                     $<TARGET_FILE:${name}>)
    set_tests_properties(${name}.np${np} PROPERTIES TIMEOUT ${ARG_TIMEOUT} PROCESSORS ${np}
                         LABELS "mpi;${ARG_LABELS}"
                         ENVIRONMENT "OMPI_ALLOW_RUN_AS_ROOT=1;OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1;OMPI_MCA_rmaps_base_oversubscribe=1;${ARG_ENV}")
  endforeach()
endfunction()
