# The layers of tessera, from the drawing in cmake/tessera_layers.txt (which scripts/check_layers.sh
# reads too, so the build and the include check cannot disagree).
#
# tessera_add_layer(<layer> SOURCES ... [DEPENDS <layer>...] [PRIVATE_DEPENDS <target>...]
#                   [PUBLIC_LIBS <target>...])
# One static library per architectural layer, exported as tessera::<layer>. A layer links only
# the layers the drawing allows (configure fails otherwise), so a forbidden include fails to link.
# Private headers: a layer's sources see src/<layer>/ (as "<layer>/..."), and another layer's
# private headers only where the drawing lists the debt ("private A B"); they do not see the
# rest of src/.
#
# tessera_check_layer_links(): after all layers are defined, fails if any layer links (by
# target_link_libraries, wherever it was called) a layer that is not below it in the drawing.

set(TESSERA_LAYER_DRAWING ${CMAKE_CURRENT_LIST_DIR}/tessera_layers.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${TESSERA_LAYER_DRAWING})

# ---- read the drawing: TESSERA_LAYERS, TESSERA_LAYER_USES_<l>, TESSERA_LAYER_PRIVATE_<l> ----
set(TESSERA_LAYERS "")
file(STRINGS ${TESSERA_LAYER_DRAWING} _tessera_lines)
foreach(_line IN LISTS _tessera_lines)
  string(REGEX REPLACE "#.*$" "" _line "${_line}")
  string(STRIP "${_line}" _line)
  if(_line STREQUAL "")
    continue()
  endif()
  if(_line MATCHES "^private[ \t]+([a-z_]+)[ \t]+([a-z_]+)$")
    list(APPEND TESSERA_LAYER_PRIVATE_${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
  elseif(_line MATCHES "^([a-z_]+)[ \t]*:(.*)$")
    set(_name ${CMAKE_MATCH_1})
    string(STRIP "${CMAKE_MATCH_2}" _uses)
    separate_arguments(_uses UNIX_COMMAND "${_uses}")
    list(APPEND TESSERA_LAYERS ${_name})
    set(TESSERA_LAYER_USES_${_name} ${_uses})
  else()
    message(FATAL_ERROR "${TESSERA_LAYER_DRAWING}: cannot read the line '${_line}'")
  endif()
endforeach()

# TESSERA_LAYER_BELOW_<l>: every layer <l> may use, directly or through the layers it uses.
foreach(_layer IN LISTS TESSERA_LAYERS)
  set(_below "")
  set(_todo ${TESSERA_LAYER_USES_${_layer}})
  while(_todo)
    list(POP_FRONT _todo _x)
    if(NOT _x IN_LIST TESSERA_LAYERS)
      message(FATAL_ERROR "${TESSERA_LAYER_DRAWING}: layer '${_layer}' uses '${_x}', which is not a layer")
    endif()
    if(NOT _x IN_LIST _below)
      list(APPEND _below ${_x})
      list(APPEND _todo ${TESSERA_LAYER_USES_${_x}})
    endif()
  endwhile()
  if(_layer IN_LIST _below)
    message(FATAL_ERROR "${TESSERA_LAYER_DRAWING}: layer '${_layer}' depends on itself (a cycle)")
  endif()
  set(TESSERA_LAYER_BELOW_${_layer} ${_below})
endforeach()

function(tessera_add_layer layer)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;PRIVATE_DEPENDS;PUBLIC_LIBS" ${ARGN})
  if(NOT layer IN_LIST TESSERA_LAYERS)
    message(FATAL_ERROR "tessera_add_layer(${layer}): not a layer of ${TESSERA_LAYER_DRAWING}")
  endif()
  foreach(_dep IN LISTS ARG_DEPENDS)
    if(NOT _dep IN_LIST TESSERA_LAYER_BELOW_${layer})
      message(FATAL_ERROR "tessera_add_layer(${layer}): DEPENDS ${_dep}, but the drawing "
              "(${TESSERA_LAYER_DRAWING}) lets ${layer} use only: ${TESSERA_LAYER_BELOW_${layer}}")
    endif()
  endforeach()
  add_library(tessera_${layer} STATIC ${ARG_SOURCES})
  add_library(tessera::${layer} ALIAS tessera_${layer})
  target_compile_features(tessera_${layer} PUBLIC cxx_std_20)
  set_target_properties(tessera_${layer} PROPERTIES EXPORT_NAME ${layer}
                        POSITION_INDEPENDENT_CODE ON OUTPUT_NAME tessera_${layer})
  # The private include directory: links to src/<layer> (and to the private folders of the
  # layers the drawing lists as debts), so "other/x.hpp" from another layer is not found.
  set(_private ${PROJECT_BINARY_DIR}/tessera_private/${layer})
  file(MAKE_DIRECTORY ${_private})
  file(GLOB _old RELATIVE ${_private} LIST_DIRECTORIES true ${_private}/*)
  foreach(_o IN LISTS _old)  # a debt removed from the drawing since the last configure
    if(NOT _o IN_LIST layer AND NOT _o IN_LIST TESSERA_LAYER_PRIVATE_${layer})
      file(REMOVE ${_private}/${_o})
    endif()
  endforeach()
  foreach(_seen IN ITEMS ${layer} ${TESSERA_LAYER_PRIVATE_${layer}})
    if(NOT EXISTS ${_private}/${_seen})
      file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${_seen} ${_private}/${_seen} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(tessera_${layer}
    PUBLIC  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
            $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
    PRIVATE ${_private})
  list(TRANSFORM ARG_DEPENDS PREPEND tessera::)
  target_link_libraries(tessera_${layer}
    PUBLIC  ${ARG_DEPENDS} ${ARG_PUBLIC_LIBS}
    PRIVATE ${ARG_PRIVATE_DEPENDS} $<BUILD_INTERFACE:tessera::warnings>)
  install(TARGETS tessera_${layer} EXPORT tesseraTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

function(tessera_check_layer_links)
  foreach(_layer IN LISTS TESSERA_LAYERS)
    if(NOT TARGET tessera_${_layer})
      continue()
    endif()
    get_target_property(_links tessera_${_layer} LINK_LIBRARIES)
    foreach(_lib IN LISTS _links)
      if(_lib MATCHES "^tessera::(.+)$" AND CMAKE_MATCH_1 IN_LIST TESSERA_LAYERS)
        if(NOT CMAKE_MATCH_1 IN_LIST TESSERA_LAYER_BELOW_${_layer})
          message(FATAL_ERROR "layer ${_layer} links tessera::${CMAKE_MATCH_1}, but the drawing "
                  "(${TESSERA_LAYER_DRAWING}) lets ${_layer} use only: ${TESSERA_LAYER_BELOW_${_layer}}")
        endif()
      endif()
    endforeach()
  endforeach()
endfunction()
