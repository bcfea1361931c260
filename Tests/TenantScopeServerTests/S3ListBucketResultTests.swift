import Foundation
import Testing
@testable import TenantScopeServer

/// The ListObjectsV2 answers the S3 export store reads, and the XML it refuses.
@Suite struct S3ListBucketResultTests {
    /// The shape of S3's documented ListObjectsV2 answer, with `encoding-type=url`.
    @Test func readsKeysTruncationAndToken() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Name>bucket</Name>
              <Prefix>p%2Ftenants%2F</Prefix>
              <KeyCount>3</KeyCount>
              <MaxKeys>1000</MaxKeys>
              <EncodingType>url</EncodingType>
              <IsTruncated>true</IsTruncated>
              <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
              <Contents>
                <Key>p/tenants/a/exports/1</Key>
                <LastModified>2009-10-12T17:50:30.000Z</LastModified>
                <ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag>
                <Size>434234</Size>
                <StorageClass>STANDARD</StorageClass>
              </Contents>
              <Contents><Key>p/tenants/a/exports/with+space%2Bplus%26amp</Key><Size>1</Size></Contents>
              <Contents><Key>p/tenants/a/exports/%C3%A9t%C3%A9</Key><Owner><ID>x</ID></Owner></Contents>
            </ListBucketResult>
            """
        let page = try S3ListBucketResult(xml: Array(xml.utf8))
        #expect(page.keys == ["p/tenants/a/exports/1", "p/tenants/a/exports/with space+plus&amp", "p/tenants/a/exports/été"])
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
    }

    /// Without `EncodingType` the keys are taken as XML text (references decoded, no URL decoding).
    @Test func readsAPlainLastPage() throws {
        let xml = "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated>"
            + "<Contents><Key>a&amp;b&#x20;c&#65;+%41</Key></Contents><Contents><Key><![CDATA[x<&y]]></Key></Contents></ListBucketResult>"
        let page = try S3ListBucketResult(xml: Array(xml.utf8))
        #expect(page.keys == ["a&b cA+%41", "x<&y"])
        #expect(!page.isTruncated)
        #expect(page.nextContinuationToken == nil)
    }

    @Test func anEmptyListingHasNoKeys() throws {
        let page = try S3ListBucketResult(xml: Array("<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>".utf8))
        #expect(page == S3ListBucketResult(keys: [], isTruncated: false, nextContinuationToken: nil))
    }

    @Test(arguments: [
        "",                                                                       // nothing
        "<Error><Code>AccessDenied</Code></Error>",                               // another document
        "<ListBucketResult><Name>b</Name>",                                       // cut short
        "<ListBucketResult><Name>b</Nom></ListBucketResult>",                     // mismatched
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",   // no token to go on with
        "<!DOCTYPE x [<!ENTITY e \"boom\">]><ListBucketResult><Name>&e;</Name></ListBucketResult>",  // no entities
        "<ListBucketResult><Name>&unknown;</Name></ListBucketResult>",
        "<ListBucketResult><Name>&amp</Name></ListBucketResult>",
        "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated><!-- unterminated",
    ])
    func refusesWhatIsNotAListing(_ xml: String) {
        #expect(throws: (any Error).self) { try S3ListBucketResult(xml: Array(xml.utf8)) }
    }

    /// Attributes (quoted `>` included), self-closing elements, comments and namespace prefixes.
    @Test func readerHandlesS3sMarkup() throws {
        let leaves = try S3XML.leaves(of: Array("""
            <?xml version="1.0"?><!-- c --><s3:Root xmlns:s3="u" a='1>2'><Empty/><s3:Leaf b="x">t &lt; u</s3:Leaf></s3:Root>
            """.utf8))
        #expect(leaves == [S3XML.Leaf(path: ["Root", "Empty"], text: ""), S3XML.Leaf(path: ["Root", "Leaf"], text: "t < u")])
    }
}
