# tessera::warnings: build-only INTERFACE target with warning and sanitizer flags.
# Linked through $<BUILD_INTERFACE:...> so the export set stays clean.
add_library(tessera_warnings INTERFACE)
add_library(tessera::warnings ALIAS tessera_warnings)
target_compile_options(tessera_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wno-psabi)
if(TESSERA_WERROR)
  target_compile_options(tessera_warnings INTERFACE -Werror)
endif()

# Sanitizers apply to everything built in this tree (library, tests, apps).
if(TESSERA_SANITIZE)
  string(REPLACE ";" "," _tessera_san "${TESSERA_SANITIZE}")
  add_compile_options(-fsanitize=${_tessera_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_tessera_san})
endif()
