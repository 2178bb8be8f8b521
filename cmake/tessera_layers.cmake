# tessera_add_layer(<layer> SOURCES ... [DEPENDS <layer>...] [PRIVATE_DEPENDS <target>...]
#                   [PUBLIC_LIBS <target>...])
# One static library per architectural layer, exported as tessera::<layer>. A layer links only
# the layers it is allowed to use (see README "Architecture"), so a forbidden include fails to link.
function(tessera_add_layer layer)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS;PUBLIC_LIBS" ${ARGN})
  add_library(tessera_${layer} STATIC ${ARG_SOURCES})
  add_library(tessera::${layer} ALIAS tessera_${layer})
  target_compile_features(tessera_${layer} PUBLIC cxx_std_20)
  set_target_properties(tessera_${layer} PROPERTIES EXPORT_NAME ${layer}
                        POSITION_INDEPENDENT_CODE ON OUTPUT_NAME tessera_${layer})
  target_include_directories(tessera_${layer}
    PUBLIC  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  list(TRANSFORM ARG_DEPENDS PREPEND tessera::)
  target_link_libraries(tessera_${layer}
    PUBLIC  ${ARG_DEPENDS} ${ARG_PUBLIC_LIBS}
    PRIVATE ${ARG_PRIVATE_DEPENDS} $<BUILD_INTERFACE:tessera::warnings>)
  install(TARGETS tessera_${layer} EXPORT tesseraTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()
