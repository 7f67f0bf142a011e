<?php

declare(strict_types=1);

// Composer's autoloader when installed with Composer, else the package's own.
$composer = dirname(__DIR__) . '/vendor/autoload.php';
require is_file($composer) ? $composer : dirname(__DIR__) . '/autoload.php';
require __DIR__ . '/TestEnv.php';

// The library from the build tree unless KSEF_LIB says otherwise.
if (getenv('KSEF_LIB') === false) {
    $root = dirname(__DIR__, 3);
    foreach (['debug', 'release'] as $profile) {
        $lib = "$root/target/$profile/libksef_ffi.so";
        if (is_file($lib)) {
            putenv("KSEF_LIB=$lib");
            break;
        }
    }
}
