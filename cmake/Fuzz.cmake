# CUSTODIAN_FUZZ: libFuzzer harnesses (tests/fuzz) built with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer. Every library is compiled with coverage instrumentation; only
# the fuzz targets link the libFuzzer runtime. Configure a separate build directory:
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCUSTODIAN_FUZZ=ON
#   ninja -C build-fuzz fuzz        # the harnesses and the libraries they need, nothing else
#   tests/fuzz/run.sh build-fuzz 25 # each target for 25 s over its committed corpus
# Without the option, tests/fuzz builds replay binaries that run the committed corpora as
# ordinary ctest tests (fuzz_replay_*). scripts/test.sh builds the whole tree this way and
# runs the test suite on it as well: one sanitized build serves the tests and the fuzzers
# (docs/design/reliability.md, "Sanitizers").
option(CUSTODIAN_FUZZ "Build the libFuzzer harnesses (clang only)" OFF)
if(CUSTODIAN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CUSTODIAN_FUZZ needs clang: CC=clang CXX=clang++ cmake -DCUSTODIAN_FUZZ=ON ...")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # LLVM's linker: this build links some 150 sanitized executables, and lld links each in
  # under half the CPU time of the default GNU ld (api_requests_test: 2.5 s against 5.8 s).
  find_program(CUSTODIAN_LLD ld.lld)
  if(CUSTODIAN_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()
