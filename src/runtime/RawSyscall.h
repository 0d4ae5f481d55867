#pragma once
// Private to the executor: system calls without glibc's wrappers, for code that runs in a child
// sharing the runtime's memory (the contract's init, the contract before its execve). Such a
// child also shares the spawning thread's TLS, so it must never write errno, take a lock, or go
// through a sanitizer's interceptor: sys() returns the result or -errno and touches nothing else.

// Functions that run in such a child: not instrumented (their shadow memory is the runtime's).
#define SASHIMONO_SHARED_VM_CHILD __attribute__((no_sanitize("address", "undefined")))

namespace sashimono::runtime::detail {

#if defined(__x86_64__)
[[gnu::always_inline]] inline long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                                       long f = 0) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
[[gnu::always_inline]] inline long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                                       long f = 0) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory", "cc");
  return x0;
}
#else
#error "sys(): add this architecture's system call convention"
#endif

// Pointer arguments.
template <typename T>
[[gnu::always_inline]] inline long arg(T* p) {
  return reinterpret_cast<long>(p);
}

}  // namespace sashimono::runtime::detail
