// A shared library with no tvm-extend entry point.
extern "C" int not_an_extension(void) { return 42; }
