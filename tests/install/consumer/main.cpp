// A program outside the tessera tree, built against the installed package.
#include <tessera/tessera.hpp>

#include <iostream>

int inc(int x) { return x + 1; }
int add(int a, int b) { return a + b; }

int main() {
  auto z = tessera::delayed(add)(tessera::delayed(inc)(1), tessera::delayed(inc)(2));
  std::cout << "result=" << tessera::compute(z, tessera::ThreadScheduler{{.num_threads = 2}}) << "\n";
}
