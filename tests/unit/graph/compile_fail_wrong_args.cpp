// Must NOT compile: inc takes an int, but is called with a string.
#include <tessera/graph/delayed.hpp>

#include <string>

int inc(int x) { return x + 1; }

int main() {
  auto bad = tessera::delayed(inc)(std::string("one"));
  (void)bad;
}
