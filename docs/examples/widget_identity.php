<?php
// Signs a shop's logged-in customer for the chat widget (docs/WIDGET.md, "Signed identity").
// Run on the shop's server, never in the browser: the secret must stay there.
//
//     php widget_identity.php SECRET CUSTOMER_ID [NAME] [EMAIL]
//
// prints a token to put in the embed tag's data-identity attribute. No extensions needed.

function b64url(string $data): string {
    return rtrim(strtr(base64_encode($data), '+/', '-_'), '=');
}

function widget_identity(string $secret, string $customerId, ?string $name = null, ?string $email = null, int $lifetime = 300): string {
    $header = ['alg' => 'HS256', 'typ' => 'JWT'];
    $claims = ['sub' => $customerId, 'exp' => time() + $lifetime]; // at most 600 seconds ahead
    if ($name !== null && $name !== '') { $claims['name'] = $name; }
    if ($email !== null && $email !== '') { $claims['email'] = $email; }
    $input = b64url(json_encode($header)) . '.' . b64url(json_encode($claims, JSON_UNESCAPED_UNICODE));
    return $input . '.' . b64url(hash_hmac('sha256', $input, $secret, true));
}

if (PHP_SAPI === 'cli' && isset($argv) && realpath($argv[0]) === __FILE__) {
    if ($argc < 3) { fwrite(STDERR, "usage: widget_identity.php SECRET CUSTOMER_ID [NAME] [EMAIL]\n"); exit(2); }
    echo widget_identity($argv[1], $argv[2], $argv[3] ?? null, $argv[4] ?? null), "\n";
}
