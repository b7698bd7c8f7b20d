// The parts of libxml2 the sandbox uses: parsing a request in memory and validating it against IRD's XSDs.
#include <libxml/xmlversion.h>
// libxml2's headers would otherwise pull in the system ICU headers, which clash with Foundation's own copy of ICU in
// the same Swift module graph. The sandbox never touches the ICU-dependent fields (the tail of
// xmlCharEncodingHandler), so hiding them changes nothing it reads.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
