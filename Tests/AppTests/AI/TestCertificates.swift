import NIOSSL

/// A root CA of the tests' own and a certificate it signed for 127.0.0.1 (EC P-256, valid 2000–2100), standing in for
/// the Russian Ministry of Digital Development's root and GigaChat's certificate: no system trusts them.
enum TestCertificates {
    static let rootCA = """
        -----BEGIN CERTIFICATE-----
        MIIBcjCCARigAwIBAgICEAAwCgYIKoZIzj0EAwIwHzEdMBsGA1UEAwwUVml0cmlu
        YSBUZXN0IFJvb3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBa
        MB8xHTAbBgNVBAMMFFZpdHJpbmEgVGVzdCBSb290IENBMFkwEwYHKoZIzj0CAQYI
        KoZIzj0DAQcDQgAE9XiEaOkNL+ThAjy90P/LiY2H8dybOR3MpisElApwLQ/t/pLa
        ug7DD+4nWL1Si/SXc/AwMinnMLSwIHwLU4bfVKNCMEAwDwYDVR0TAQH/BAUwAwEB
        /zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFOSdjHgOSLF7J6Djjm8y1yKSpXV+
        MAoGCCqGSM49BAMCA0gAMEUCIGATUx9BEZStIO+hbwyxqSf+jcVDh6qrruEkgzvv
        69IsAiEAmMgt3Z71P2Hc9dYTl4+I9Lxm1TES9yBsVYUf7B/FQsg=
        -----END CERTIFICATE-----
        """

    static let server = """
        -----BEGIN CERTIFICATE-----
        MIIBtDCCAVugAwIBAgICEAEwCgYIKoZIzj0EAwIwHzEdMBsGA1UEAwwUVml0cmlu
        YSBUZXN0IFJvb3QgQ0EwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBa
        MBQxEjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IA
        BFxPs/MwEsatG5Vc6mvpqtPFjr5a2DF4iekbKWcJsh1z0Ech0ixyVGsMmoV1l+Pg
        kmexaCSf6lbxhxuO92Oq8k2jgY8wgYwwGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxo
        b3N0MAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUF
        BwMBMB8GA1UdIwQYMBaAFOSdjHgOSLF7J6Djjm8y1yKSpXV+MB0GA1UdDgQWBBQO
        g+ML98TizvwVmWbCTD+0jbkxDjAKBggqhkjOPQQDAgNHADBEAiBJWjm+GXxuPdCf
        Yv4EaBRXka7Eg1kUDz4abGV2SFyKFAIgWmQAJv4Cxm5kWaZS4lmEDActEnRE+RM7
        32N6GaqssKk=
        -----END CERTIFICATE-----
        """

    static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrpxhJ1ElvaZX1oHu
        9U0/WEq6+1pgyaoi4TSGh6DXRQehRANCAARcT7PzMBLGrRuVXOpr6arTxY6+Wtgx
        eInpGylnCbIdc9BHIdIsclRrDJqFdZfj4JJnsWgkn+pW8YcbjvdjqvJN
        -----END PRIVATE KEY-----
        """

    /// A server context presenting the certificate.
    static func serverContext() throws -> NIOSSLContext {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(server.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serverKey.utf8), format: .pem)))
        return try NIOSSLContext(configuration: configuration)
    }
}
