import Foundation
import Testing

@testable import App

@Suite("Model endpoints shops may use")
struct LLMEndpointPolicyTests {
    @Test(arguments: [
        "localhost", "LOCALHOST.", "ollama.localhost", "127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "0.0.0.0",
        "10.0.0.5",
        "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "::1", "[::1]", "::", "::ffff:127.0.0.1",
        "[::ffff:a9fe:a9fe]", "fd00::1", "fe80::1%eth0", "fc00::",
    ])
    func privateHostsAreRecognised(host: String) {
        #expect(LLMEndpointPolicy.isPrivate(host: host))
    }

    @Test(arguments: [
        "api.openai.com", "llm.api.cloud.yandex.net", "gigachat.devices.sberbank.ru", "8.8.8.8", "172.32.0.1", "192.169.0.1",
        "2001:4860::8888",
        "deadbeef.example", "localhost.example.com",
    ])
    func publicHostsAreNot(host: String) {
        #expect(!LLMEndpointPolicy.isPrivate(host: host))
    }

    @Test func theInstallationMayAllowPrivateHosts() throws {
        #expect(throws: BotSettingsError.self) { try LLMEndpointPolicy(allowPrivateHosts: false).check("http://127.0.0.1:8080/v1") }
        try LLMEndpointPolicy(allowPrivateHosts: true).check("http://127.0.0.1:8080/v1")
        try LLMEndpointPolicy(allowPrivateHosts: false).check("https://api.openai.com/v1")
        #expect(throws: BotSettingsError.self) { try LLMEndpointPolicy(allowPrivateHosts: false).check("http://[::1]:8080/v1") }
    }

    @Test func theEnvironmentSetsThePolicy() throws {
        #expect(try AppConfiguration.fromEnvironment([:]).allowPrivateModelHosts == false)
        #expect(try AppConfiguration.fromEnvironment(["VITRINA_LLM_PRIVATE_HOSTS": "allow"]).allowPrivateModelHosts)
        #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment(["VITRINA_LLM_PRIVATE_HOSTS": "maybe"]) }
    }
}

@Suite("Model endpoints: names that lead inside")
struct LLMEndpointNamesTests {
    @Test func aNameIsFollowedToItsAddressesAndTheStoredAddressIsNotLookedUpAgain() async {
        let policy = LLMEndpointPolicy(allowPrivateHosts: false, hosts: TestHosts.addresses)
        #expect(await policy.leadsInside("https://llm.corp.example/v1"))
        #expect(await policy.leadsInside("http://metadata.cloud.example./latest"))
        #expect(await !policy.leadsInside("https://llm.public.example/v1"))
        // A name that does not resolve is for the call to report; the stored address was checked when it was saved.
        #expect(await !policy.leadsInside("https://nowhere.example/v1"))
        #expect(await !policy.leadsInside("https://llm.corp.example/v1", stored: "https://llm.corp.example/v1"))
        #expect(await !policy.leadsInside(nil))
        #expect(await !LLMEndpointPolicy(allowPrivateHosts: true, hosts: TestHosts.addresses).leadsInside("https://llm.corp.example/v1"))
    }

    @Test func theSystemsResolverIsAskedAndAHangingOneIsNotWaitedForPastTheDeadline() async {
        // getaddrinfo, as the HTTP client: /etc/hosts knows localhost.
        #expect(await HostAddresses.system().addresses(of: "localhost").contains { LLMEndpointPolicy.isPrivate(host: $0) })
        // A resolver that ignores cancellation, as getaddrinfo on its thread does: the answer comes by the deadline anyway,
        // and the look-up still counts against the limit until its thread is done.
        let hanging = HostAddresses(limit: 1) { _ in
            try await withCheckedThrowingContinuation { continuation in
                Thread.detachNewThread {
                    Thread.sleep(forTimeInterval: 3)
                    continuation.resume(returning: ["10.0.0.1"])
                }
            }
        }
        let started = ContinuousClock.now
        #expect(await hanging.addresses(of: "slow.example", within: .milliseconds(200)).isEmpty)
        #expect(ContinuousClock.now - started < .seconds(2))
        #expect(await hanging.addresses(of: "slow.example", within: .seconds(10)).isEmpty)
        #expect(ContinuousClock.now - started < .seconds(2.5))
        try? await Task.sleep(for: .seconds(3.5))
        #expect(await hanging.addresses(of: "slow.example", within: .seconds(10)) == ["10.0.0.1"])
    }
}
