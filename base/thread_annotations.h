// Clang's thread-safety attributes, so that which mutex guards what is checked by the
// compiler (-Wthread-safety in the clang build) rather than written in comments. Under other
// compilers (GCC builds the release) they expand to nothing.
//
// GUARDED_BY(mu) on a member: read or written only with mu held. REQUIRES(mu) on a function:
// called only with mu held; EXCLUDES(mu): never with it held. CAPABILITY, SCOPED_CAPABILITY,
// ACQUIRE, RELEASE and TRY_ACQUIRE describe a lock type (base/mutex.h).
// NO_THREAD_SAFETY_ANALYSIS turns the check off for one function; each use says why.
#pragma once

#if defined(__clang__)
#define CUSTODIAN_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CUSTODIAN_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) CUSTODIAN_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY CUSTODIAN_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) CUSTODIAN_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) CUSTODIAN_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) CUSTODIAN_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) CUSTODIAN_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) CUSTODIAN_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) CUSTODIAN_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) CUSTODIAN_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CUSTODIAN_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) CUSTODIAN_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define EXCLUDES(...) CUSTODIAN_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) CUSTODIAN_THREAD_ANNOTATION(assert_capability(x))
#define RETURN_CAPABILITY(x) CUSTODIAN_THREAD_ANNOTATION(lock_returned(x))
#define NO_THREAD_SAFETY_ANALYSIS CUSTODIAN_THREAD_ANNOTATION(no_thread_safety_analysis)
