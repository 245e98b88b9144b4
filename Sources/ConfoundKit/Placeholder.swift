enum _ConfoundKitPlaceholder {}
