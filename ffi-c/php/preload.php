<?php

/**
 * An `opcache.preload` script for PHP-FPM / Apache (see README.md, "Enabling FFI"):
 * compiles every Ksef\ class into the preloaded code (with the default `ffi.enable=preload`
 * only preloaded code may use FFI in web requests) and loads the library into the FFI scope
 * `KSEF`, unless `ffi.preload` already did.
 *
 * The library path comes from the environment variable KSEF_LIB (absolute path of
 * libksef_ffi.so) or the dynamic linker's search path.
 */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

foreach (glob(__DIR__ . '/src/*.php') ?: [] as $file) {
    $class = 'Ksef\\' . basename($file, '.php');
    if (!class_exists($class) && !interface_exists($class)) {
        throw new RuntimeException("preload: $file does not define $class");
    }
}

try {
    FFI::scope(Ksef\Ffi::SCOPE); // loaded by ffi.preload
} catch (Throwable) {
    Ksef\Ffi::preload();
}
