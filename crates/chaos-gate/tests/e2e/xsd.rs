//! XSD validation for the tests, through libxml2 (the validator behind
//! `xmllint --schema`).
//!
//! Why hand-written bindings: the pure-Rust `xmlschema` crate (0.0.14)
//! rejects valid reports against this schema (it ignores `mixed="true"` and
//! an optional unbounded `xs:choice`), and the `libxml` crate generates its
//! bindings with bindgen, which needs libclang at build time. libxml2 and its
//! development files are part of the machine image, so these seven functions
//! are linked directly. Test-only: the product does not link libxml2.
//! Unsafe code is allowed here (and in hostile_out's `pre_exec`) alone.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;

#[link(name = "xml2")]
unsafe extern "C" {
    fn xmlInitParser();
    fn xmlSchemaNewMemParserCtxt(buffer: *const c_char, size: c_int) -> *mut c_void;
    fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
    fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
    fn xmlSchemaFree(schema: *mut c_void);
    fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
    fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
    fn xmlSchemaValidateDoc(ctxt: *mut c_void, doc: *mut c_void) -> c_int;
    fn xmlReadMemory(
        buffer: *const c_char,
        size: c_int,
        url: *const c_char,
        encoding: *const c_char,
        options: c_int,
    ) -> *mut c_void;
    fn xmlFreeDoc(doc: *mut c_void);
}

static INIT: Once = Once::new();

/// Validates `xml` against the schema text `xsd`. libxml2 prints the
/// details of a violation to stderr (shown with the failing test).
pub fn validate(xsd: &str, xml: &str) -> Result<(), String> {
    INIT.call_once(|| unsafe { xmlInitParser() });
    let size = |s: &str| c_int::try_from(s.len()).map_err(|_| "document too large".to_string());
    // SAFETY: every pointer passed is either a live buffer of the given
    // length or one returned by libxml2 and checked for null; each object is
    // freed exactly once, after its last use.
    unsafe {
        let pctxt = xmlSchemaNewMemParserCtxt(xsd.as_ptr().cast(), size(xsd)?);
        if pctxt.is_null() {
            return Err("libxml2 could not read the schema".into());
        }
        let schema = xmlSchemaParse(pctxt);
        xmlSchemaFreeParserCtxt(pctxt);
        if schema.is_null() {
            return Err("libxml2 could not parse the schema".into());
        }
        let doc = xmlReadMemory(
            xml.as_ptr().cast(),
            size(xml)?,
            c"report.xml".as_ptr(),
            std::ptr::null(),
            0,
        );
        if doc.is_null() {
            xmlSchemaFree(schema);
            return Err("not well-formed XML".into());
        }
        let vctxt = xmlSchemaNewValidCtxt(schema);
        let result = if vctxt.is_null() {
            -1
        } else {
            xmlSchemaValidateDoc(vctxt, doc)
        };
        if !vctxt.is_null() {
            xmlSchemaFreeValidCtxt(vctxt);
        }
        xmlFreeDoc(doc);
        xmlSchemaFree(schema);
        match result {
            0 => Ok(()),
            n => Err(format!(
                "libxml2 reports the document invalid (code {n}); details above"
            )),
        }
    }
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let xsd = crate::common::fixture("junit-10.xsd");
    assert!(validate(
        &xsd,
        "<testsuites><testsuite name=\"x\" tests=\"0\" failures=\"0\" errors=\"0\"/></testsuites>"
    )
    .is_ok());
    // `tests` is required on a testsuite.
    assert!(
        validate(
            &xsd,
            "<testsuites><testsuite name=\"x\" failures=\"0\" errors=\"0\"/></testsuites>"
        )
        .is_err()
    );
    // time has at most three decimals.
    assert!(validate(&xsd, "<testsuites><testsuite name=\"x\" tests=\"0\" failures=\"0\" errors=\"0\" time=\"1.2345\"/></testsuites>").is_err());
    assert!(validate(&xsd, "<testsuites><oops/></testsuites>").is_err());
}
