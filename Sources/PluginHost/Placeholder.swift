enum _PluginHostPlaceholder {}
