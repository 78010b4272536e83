/* The libvirt declarations src/QomFs.Qmp/Libvirt/LibvirtNative.cs binds, restated as it binds them. Compiled
 * against the installed headers (libvirt-dev) by LibvirtBindingTests: each line fails the build if the header
 * declares the function, callback or constant otherwise. The test passes the binding's constants as CS_NAME. */
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#define SAME(fn, type) _Static_assert(__builtin_types_compatible_p(__typeof__(&fn), type), #fn)
#define VALUE(name, value) _Static_assert((name) == (value), #name)

SAME(virInitialize, int (*)(void));
SAME(virSetErrorFunc, void (*)(void *, void (*)(void *, virErrorPtr)));
SAME(virGetLastErrorMessage, const char *(*)(void));
SAME(virEventRegisterDefaultImpl, int (*)(void));
SAME(virEventRunDefaultImpl, int (*)(void));
SAME(virConnectOpen, virConnectPtr (*)(const char *));
SAME(virConnectClose, int (*)(virConnectPtr));
SAME(virConnectRegisterCloseCallback,
     int (*)(virConnectPtr, void (*)(virConnectPtr, int, void *), void *, void (*)(void *)));
SAME(virConnectUnregisterCloseCallback, int (*)(virConnectPtr, void (*)(virConnectPtr, int, void *)));
SAME(virConnectListAllDomains, int (*)(virConnectPtr, virDomainPtr **, unsigned int));
SAME(virDomainLookupByName, virDomainPtr (*)(virConnectPtr, const char *));
SAME(virDomainGetName, const char *(*)(virDomainPtr));
SAME(virDomainIsActive, int (*)(virDomainPtr));
SAME(virDomainFree, int (*)(virDomainPtr));
SAME(virConnectDomainEventRegisterAny,
     int (*)(virConnectPtr, virDomainPtr, int, virConnectDomainEventGenericCallback, void *, void (*)(void *)));
SAME(virConnectDomainEventDeregisterAny, int (*)(virConnectPtr, int));
SAME(virDomainQemuMonitorCommand, int (*)(virDomainPtr, const char *, char **, unsigned int));
SAME(virConnectDomainQemuMonitorEventRegister,
     int (*)(virConnectPtr, virDomainPtr, const char *,
             void (*)(virConnectPtr, virDomainPtr, const char *, long long, unsigned int, const char *, void *),
             void *, void (*)(void *), unsigned int));
SAME(virConnectDomainQemuMonitorEventDeregister, int (*)(virConnectPtr, int));

/* The lifecycle callback the binding passes as the generic one: the header's own type for it. */
_Static_assert(__builtin_types_compatible_p(virConnectDomainEventCallback,
                                            int (*)(virConnectPtr, virDomainPtr, int, int, void *)),
               "virConnectDomainEventCallback");
/* long long and unsigned int are what C# long and uint are on x86-64. */
_Static_assert(sizeof(long long) == 8 && sizeof(unsigned int) == 4, "widths");

VALUE(VIR_DOMAIN_EVENT_ID_LIFECYCLE, CS_VIR_DOMAIN_EVENT_ID_LIFECYCLE);
VALUE(VIR_DOMAIN_EVENT_UNDEFINED, CS_VIR_DOMAIN_EVENT_UNDEFINED);
VALUE(VIR_DOMAIN_EVENT_STARTED, CS_VIR_DOMAIN_EVENT_STARTED);
VALUE(VIR_DOMAIN_EVENT_STOPPED, CS_VIR_DOMAIN_EVENT_STOPPED);
VALUE(VIR_DOMAIN_EVENT_CRASHED, CS_VIR_DOMAIN_EVENT_CRASHED);
VALUE(VIR_CONNECT_LIST_DOMAINS_ACTIVE, CS_VIR_CONNECT_LIST_DOMAINS_ACTIVE);
VALUE(VIR_CONNECT_CLOSE_REASON_EOF, CS_VIR_CONNECT_CLOSE_REASON_EOF);
VALUE(VIR_CONNECT_CLOSE_REASON_KEEPALIVE, CS_VIR_CONNECT_CLOSE_REASON_KEEPALIVE);
