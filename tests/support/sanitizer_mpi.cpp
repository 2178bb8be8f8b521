// Sanitizer defaults for test programs that run MPI. Open MPI, ORTE and libevent keep
// allocations until exit that LeakSanitizer reports as leaks; they are suppressed by library.
// The frames only name those libraries with the slow unwinder (Debian builds them without
// frame pointers), hence fast_unwind_on_malloc=0. Harmless in builds without sanitizers;
// ASAN_OPTIONS / LSAN_OPTIONS from the environment still take precedence.

extern "C" {

__attribute__((used, visibility("default"))) const char* __lsan_default_suppressions() {
  return "leak:libmpi.so\n"
         "leak:libopen-pal.so\n"
         "leak:libopen-rte.so\n"
         "leak:libpmix.so\n"
         "leak:libhwloc.so\n"
         "leak:libevent\n"
         "leak:mca_\n";
}

__attribute__((used, visibility("default"))) const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0";
}

}  // extern "C"
