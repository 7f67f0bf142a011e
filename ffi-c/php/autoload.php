<?php

/**
 * A PSR-4 autoloader for Ksef\ classes, for use without Composer:
 * `require '/path/to/ksef/autoload.php';`. With Composer, `vendor/autoload.php` does this.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $prefix = 'Ksef\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
