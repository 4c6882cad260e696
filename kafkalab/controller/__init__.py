"""The controller: the one broker that elects leaders and tells every broker the cluster layout."""
